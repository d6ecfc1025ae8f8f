using RegistryKit.Registry;

namespace RegistryKit.Tests.Support;

/// <summary>A notify listener that keeps every list and lets a test wait for one.</summary>
internal sealed class RecordingListener : INotifyListener
{
    private readonly Lock _lock = new();
    private readonly List<IReadOnlyList<ServiceUrl>> _lists = [];
    private readonly List<(Func<IReadOnlyList<ServiceUrl>, bool> Predicate, TaskCompletionSource Done)> _waiters = [];

    public Func<IReadOnlyList<ServiceUrl>, CancellationToken, ValueTask>? OnNotify { get; set; }

    public IReadOnlyList<IReadOnlyList<ServiceUrl>> Lists
    {
        get
        {
            lock (_lock)
            {
                return [.. _lists];
            }
        }
    }

    /// <summary>The latest list of each category.</summary>
    public Dictionary<string, IReadOnlyList<ServiceUrl>> View
    {
        get
        {
            lock (_lock)
            {
                var view = new Dictionary<string, IReadOnlyList<ServiceUrl>>();
                foreach (IReadOnlyList<ServiceUrl> list in _lists)
                {
                    view[list[0].Category] = list;
                }

                return view;
            }
        }
    }

    public async ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
    {
        if (OnNotify is not null)
        {
            await OnNotify(urls, cancellationToken);
        }

        List<TaskCompletionSource> done = [];
        lock (_lock)
        {
            _lists.Add(urls);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(urls))
                {
                    done.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        done.ForEach(tcs => tcs.TrySetResult());
    }

    /// <summary>Waits until a list (already received or later) satisfies the predicate.</summary>
    public Task WaitForAsync(Func<IReadOnlyList<ServiceUrl>, bool> predicate)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_lists.Exists(list => predicate(list)))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((predicate, done));
        }

        return done.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);
    }
}
