using RegistryKit.Transport;

namespace RegistryKit.Tests.Reliability;

/// <summary>
/// A transport whose registry is the test: sessions open, writes succeed (or fail, when <see cref="FailWrites"/> is
/// set), and the test hands each watcher whatever snapshot it likes, on its own thread.
/// </summary>
internal sealed class ScriptedTransportFactory : IRegistryTransportFactory
{
    private readonly Lock _lock = new();
    private readonly List<ITransportWatcher> _watchers = [];

    /// <summary>When set, every call but opening a session fails with this (transient) message.</summary>
    public string? FailWrites { get; set; }

    public IReadOnlyList<ITransportWatcher> Watchers
    {
        get
        {
            lock (_lock)
            {
                return [.. _watchers];
            }
        }
    }

    public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => new Transport(this);

    private sealed class Transport(ScriptedTransportFactory owner) : IRegistryTransport
    {
        private int _sessions;

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new RegistrySession($"s{Interlocked.Increment(ref _sessions)}", ttl, ttl / 3));

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => Call();

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => Call();

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => Call();

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
        {
            if (owner.FailWrites is { } message)
            {
                throw new RegistryTransportException(message, isTransient: true);
            }

            lock (owner._lock)
            {
                owner._watchers.Add(watcher);
            }

            return ValueTask.FromResult<IAsyncDisposable>(new Unwatch(owner, watcher));
        }

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
            owner.FailWrites is { } message
                ? throw new RegistryTransportException(message, isTransient: true)
                : ValueTask.FromResult(new TransportSnapshot(0, []));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private ValueTask Call() =>
            owner.FailWrites is { } message ? ValueTask.FromException(new RegistryTransportException(message, isTransient: true)) : ValueTask.CompletedTask;
    }

    private sealed class Unwatch(ScriptedTransportFactory owner, ITransportWatcher watcher) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            lock (owner._lock)
            {
                owner._watchers.Remove(watcher);
            }

            return ValueTask.CompletedTask;
        }
    }
}
