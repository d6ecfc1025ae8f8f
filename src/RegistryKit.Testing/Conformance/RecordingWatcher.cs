using RegistryKit.Transport;

namespace RegistryKit.Testing.Conformance;

/// <summary>An <see cref="ITransportWatcher"/> that keeps what it is told, and lets a test wait for a snapshot.</summary>
public sealed class RecordingWatcher : ITransportWatcher
{
    private readonly Lock _lock = new();
    private readonly List<TransportSnapshot> _snapshots = [];
    private readonly List<(Func<TransportSnapshot, bool> Predicate, TaskCompletionSource<TransportSnapshot> Done)> _waiters = [];

    /// <summary>Gets every snapshot received, in order.</summary>
    public IReadOnlyList<TransportSnapshot> Snapshots
    {
        get
        {
            lock (_lock)
            {
                return [.. _snapshots];
            }
        }
    }

    /// <summary>Gets the last snapshot received, or <see langword="null"/>.</summary>
    public TransportSnapshot? Last
    {
        get
        {
            lock (_lock)
            {
                return _snapshots.Count == 0 ? null : _snapshots[^1];
            }
        }
    }

    /// <summary>Gets why the watch was lost, or <see langword="null"/> while it is not.</summary>
    public Exception? LostReason { get; private set; }

    /// <inheritdoc/>
    public void OnSnapshot(TransportSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        List<TaskCompletionSource<TransportSnapshot>> done = [];
        lock (_lock)
        {
            _snapshots.Add(snapshot);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(snapshot))
                {
                    done.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        done.ForEach(tcs => tcs.TrySetResult(snapshot));
    }

    /// <inheritdoc/>
    public void OnLost(Exception reason) => LostReason = reason;

    /// <summary>Waits until a snapshot (the last one already received, or a later one) satisfies <paramref name="predicate"/>.</summary>
    /// <param name="predicate">The condition.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The first snapshot that satisfied it.</returns>
    public Task<TransportSnapshot> WaitForAsync(Func<TransportSnapshot, bool> predicate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var done = new TaskCompletionSource<TransportSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_snapshots.Count > 0 && predicate(_snapshots[^1]))
            {
                return Task.FromResult(_snapshots[^1]);
            }

            _waiters.Add((predicate, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }
}
