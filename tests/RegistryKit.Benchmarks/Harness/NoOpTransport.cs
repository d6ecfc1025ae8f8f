using RegistryKit.Transport;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// A transport that answers every call at once and does nothing but count keep-alives: what is left is the engine's
/// own cost. One instance serves every registry of a factory (it holds no per-registry state).
/// </summary>
internal sealed class NoOpTransport(TimeSpan heartbeatInterval) : IRegistryTransport, IRegistryTransportFactory, IAsyncDisposable
{
    private static readonly TransportSnapshot s_empty = new(0, []);
    private readonly RegistrySession _template = new("noop", heartbeatInterval * 3, heartbeatInterval);
    private long _keepAlives;

    public long KeepAlives => Interlocked.Read(ref _keepAlives);

    public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => this;

    // A session object per registry, as a real transport returns; the id string is shared.
    public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        new(new RegistrySession(_template.Id, _template.Ttl, _template.HeartbeatInterval));

    public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _keepAlives);
        return default;
    }

    public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => default;

    public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => default;

    public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => default;

    public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
        new(this);

    public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => new(s_empty);

    public ValueTask DisposeAsync() => default;
}
