using RegistryKit.Transport;

namespace RegistryKit.Tests.Support;

/// <summary>Wraps a transport factory, counting the register and unregister calls its transports make.</summary>
internal sealed class CountingTransportFactory(IRegistryTransportFactory inner) : IRegistryTransportFactory
{
    private int _registers;
    private int _unregisters;

    public int Registers => Volatile.Read(ref _registers);

    public int Unregisters => Volatile.Read(ref _unregisters);

    public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => new Counting(this, inner.CreateTransport(registryUrl));

    private sealed class Counting(CountingTransportFactory owner, IRegistryTransport inner) : IRegistryTransport
    {
        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) => inner.OpenSessionAsync(ttl, cancellationToken);

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => inner.KeepAliveAsync(session, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._registers);
            return inner.RegisterAsync(session, url, cancellationToken);
        }

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._unregisters);
            return inner.UnregisterAsync(session, url, cancellationToken);
        }

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
            inner.WatchAsync(subscription, watcher, cancellationToken);

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
