using System.Collections.Concurrent;
using RegistryKit.Transport;

namespace RegistryKit.Simulation.Tests;

/// <summary>
/// One simulated client's link to the registry: the real in-memory transport behind the faults of the seed's
/// <see cref="FaultPlan"/>, a partition the simulation switches, and a crash that cuts it for good.
/// </summary>
internal sealed class ChaosTransport(IRegistryTransport inner, int client, FaultPlan plan, TimeProvider time, CallTracker calls) : IRegistryTransport
{
    private readonly ConcurrentDictionary<string, long> _ordinals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ChaosWatcher, byte> _watchers = new();
    private readonly ConcurrentDictionary<string, string> _sessionNames = new(StringComparer.Ordinal);
    private int _sessionsOpened;
    private volatile bool _partitioned;
    private volatile bool _dead;

    /// <summary>Cuts the client off (or reconnects it); a cut also breaks its open watches.</summary>
    public void SetPartitioned(bool partitioned)
    {
        _partitioned = partitioned;
        if (partitioned)
        {
            SeverWatches("partitioned");
        }
    }

    /// <summary>The client's process died: nothing it sends arrives any more.</summary>
    public void Kill()
    {
        _dead = true;
        SeverWatches("the process died");
    }

    /// <summary>Delivers every notification held back for reordering (faults are off now).</summary>
    public void FlushHeldSnapshots()
    {
        foreach (ChaosWatcher watcher in _watchers.Keys)
        {
            watcher.Flush();
        }
    }

    public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        CallAsync("open", "", async ct =>
        {
            RegistrySession session = await inner.OpenSessionAsync(ttl, ct).ConfigureAwait(false);
            // The registry numbers sessions across every client, in whatever order their opens arrive; faults are
            // decided on this client's own count of its sessions instead, which the seed fixes.
            _sessionNames.TryAdd(session.Id, "session" + Interlocked.Increment(ref _sessionsOpened).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return session;
        }, cancellationToken);

    public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) =>
        CallAsync("keepalive", NameOf(session), async ct =>
        {
            if (plan.Decide(Fault.SessionUnknown, client, NameOf(session), NextOrdinal("unknown", NameOf(session))))
            {
                throw new RegistrySessionLostException($"Simulated: the registry answered 'session {session.Id} unknown'.");
            }

            await inner.KeepAliveAsync(session, ct).ConfigureAwait(false);
        }, cancellationToken);

    public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) =>
        CallAsync("close", NameOf(session), ct => inner.CloseSessionAsync(session, ct), cancellationToken);

    public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) =>
        CallAsync("register", url.ToFullString(), ct => inner.RegisterAsync(session, url, ct), cancellationToken);

    public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) =>
        CallAsync("unregister", url.ToFullString(), ct => inner.UnregisterAsync(session, url, ct), cancellationToken);

    public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
        CallAsync<IAsyncDisposable>("watch", subscription.ServiceInterface, async ct =>
        {
            var chaos = new ChaosWatcher(watcher, client, plan, subscription.ServiceInterface);
            chaos.Inner = await inner.WatchAsync(subscription, chaos, ct).ConfigureAwait(false);
            _watchers.TryAdd(chaos, 0);
            chaos.Removed = () => _watchers.TryRemove(chaos, out _);
            return chaos;
        }, cancellationToken);

    public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
        CallAsync("lookup", subscription.ServiceInterface, ct => inner.LookupAsync(subscription, ct), cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async ValueTask CallAsync(string operation, string subject, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        await CallAsync(operation, subject, async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    private async ValueTask<T> CallAsync<T>(string operation, string subject, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        calls.Enter();
        try
        {
            long ordinal = NextOrdinal(operation, subject);
            ThrowIfCut();
            if (plan.Decide(Fault.Delay, client, operation + subject, ordinal))
            {
                calls.Park();
                try
                {
                    await Task.Delay(plan.DelayOf(client, operation + subject, ordinal), time, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    calls.Unpark();
                }

                ThrowIfCut();
            }

            if (plan.Decide(Fault.DropRequest, client, operation + subject, ordinal))
            {
                throw new RegistryTransportException($"Simulated: the {operation} request was dropped.", isTransient: true);
            }

            T result = await call(cancellationToken).ConfigureAwait(false);
            if (plan.Decide(Fault.LoseReply, client, operation + subject, ordinal))
            {
                if (result is IAsyncDisposable watch)
                {
                    await watch.DisposeAsync().ConfigureAwait(false); // the client never learns of this watch
                }

                throw new RegistryTransportException($"Simulated: the reply to {operation} was lost.", isTransient: true);
            }

            return result;
        }
        finally
        {
            calls.Exit();
        }
    }

    private string NameOf(RegistrySession session) => _sessionNames.GetValueOrDefault(session.Id, "unknown");

    private void ThrowIfCut()
    {
        if (_dead || _partitioned)
        {
            throw new RegistryTransportException("Simulated: the registry is unreachable from this client.", isTransient: true);
        }
    }

    private long NextOrdinal(string operation, string subject) => _ordinals.AddOrUpdate(operation + "|" + subject, 0, static (_, n) => n + 1);

    private void SeverWatches(string why)
    {
        foreach (ChaosWatcher watcher in _watchers.Keys)
        {
            watcher.Sever(new RegistryTransportException($"Simulated: the watch broke ({why}).", isTransient: true));
        }
    }
}
