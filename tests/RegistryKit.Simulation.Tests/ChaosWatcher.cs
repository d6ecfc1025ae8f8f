using RegistryKit.Transport;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// Sits between the registry's watch and the engine's watcher: duplicates snapshots, holds one back to deliver it
/// after the next (so the engine sees an older revision after a newer one), and breaks when the client is cut off.
/// </summary>
internal sealed class ChaosWatcher(ITransportWatcher engine, int client, FaultPlan plan, string service) : ITransportWatcher, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private TransportSnapshot? _held;
    private long _ordinal;
    private bool _ended;

    public IAsyncDisposable? Inner { get; set; }

    public Action? Removed { get; set; }

    public void OnSnapshot(TransportSnapshot snapshot)
    {
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            long ordinal = _ordinal++;
            if (_held is null && plan.Decide(Fault.ReorderSnapshot, client, service, ordinal))
            {
                _held = snapshot;
                return;
            }

            engine.OnSnapshot(snapshot);
            if (plan.Decide(Fault.DuplicateSnapshot, client, service, ordinal))
            {
                engine.OnSnapshot(snapshot);
            }

            if (_held is { } older)
            {
                _held = null;
                engine.OnSnapshot(older); // late: the engine must ignore it
            }
        }
    }

    public void OnLost(Exception reason)
    {
        lock (_lock)
        {
            if (_ended)
            {
                return;
            }

            _ended = true;
            _held = null;
            engine.OnLost(reason);
        }

        Removed?.Invoke();
    }

    /// <summary>Delivers a snapshot still held back.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (!_ended && _held is { } held)
            {
                _held = null;
                engine.OnSnapshot(held);
            }
        }
    }

    /// <summary>The stream broke on the client's side: the engine hears it lost, and the registry's watch is closed.</summary>
    public void Sever(Exception reason)
    {
        OnLost(reason);
        if (Inner is { } inner)
        {
            _ = inner.DisposeAsync().AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _ended = true;
            _held = null;
        }

        Removed?.Invoke();
        if (Inner is { } inner)
        {
            await inner.DisposeAsync().ConfigureAwait(false);
        }
    }
}
