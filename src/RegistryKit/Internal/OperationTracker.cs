namespace RegistryKit.Internal;

/// <summary>
/// Counts the background operations of a component (calls in flight, callbacks running), so that its dispose can
/// refuse new ones and wait for the running ones: nothing it started runs on after dispose returns.
/// </summary>
internal sealed class OperationTracker
{
    private readonly Lock _lock = new();
    private int _running;
    private bool _closed;
    private TaskCompletionSource? _drained;

    /// <summary>Starts an operation; <see langword="false"/> once closed, and the operation must not run.</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _running++;
            return true;
        }
    }

    /// <summary>Ends an operation started by a successful <see cref="TryEnter"/>.</summary>
    public void Exit()
    {
        TaskCompletionSource? drained = null;
        lock (_lock)
        {
            if (--_running == 0 && _closed)
            {
                drained = _drained;
            }
        }

        drained?.TrySetResult();
    }

    /// <summary>Refuses new operations and returns a task that completes when the running ones have ended.</summary>
    public Task CloseAsync()
    {
        lock (_lock)
        {
            _closed = true;
            if (_running == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }
}
