namespace RegistryKit.Tests.Support;

/// <summary>Counts the calls a fake receives and lets a test await the n-th (bounded by the test's timeout).</summary>
internal sealed class CallCounter
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private int _count;

    /// <summary>Counts one more call; call it after the fake has recorded the call, so an awaiting test sees it.</summary>
    public void Increment()
    {
        lock (_lock)
        {
            _count++;
            _waiters.RemoveAll(w => w.Count <= _count && w.Done.TrySetResult());
        }
    }

    /// <summary>Completes once <paramref name="count"/> calls were counted.</summary>
    public Task WaitForAsync(int count)
    {
        lock (_lock)
        {
            if (_count >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
            return done.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);
        }
    }
}
