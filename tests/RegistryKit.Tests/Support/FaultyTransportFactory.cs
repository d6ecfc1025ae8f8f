using RegistryKit.Transport;

namespace RegistryKit.Tests.Support;

/// <summary>
/// Wraps a transport factory so that a test can make its transports' calls hang (until cancelled or released) or be
/// refused for good, and count the unregister calls.
/// </summary>
internal sealed class FaultyTransportFactory(IRegistryTransportFactory inner) : IRegistryTransportFactory
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _registersStarted;
    private int _unregisters;

    public volatile bool HangRegister;
    public volatile bool HangUnregister;
    public volatile bool HangKeepAlive;
    public volatile bool RefuseRegister;

    public int RegistersStarted => Volatile.Read(ref _registersStarted);

    public int Unregisters => Volatile.Read(ref _unregisters);

    /// <summary>Lets every hanging call go on to the real transport.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _release.TrySetResult();
            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => new Faulty(this, inner.CreateTransport(registryUrl));

    private async ValueTask HangThen(Func<ValueTask> call, CancellationToken cancellationToken)
    {
        Task released;
        lock (_lock)
        {
            released = _release.Task;
        }

        await released.WaitAsync(cancellationToken);
        await call();
    }

    private sealed class Faulty(FaultyTransportFactory owner, IRegistryTransport inner) : IRegistryTransport
    {
        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) => inner.OpenSessionAsync(ttl, cancellationToken);

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) =>
            owner.HangKeepAlive ? owner.HangThen(() => inner.KeepAliveAsync(session, cancellationToken), cancellationToken) : inner.KeepAliveAsync(session, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._registersStarted);
            if (owner.RefuseRegister)
            {
                throw new RegistryTransportException("The registry refuses this registration.", isTransient: false);
            }

            return owner.HangRegister ? owner.HangThen(() => inner.RegisterAsync(session, url, cancellationToken), cancellationToken) : inner.RegisterAsync(session, url, cancellationToken);
        }

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._unregisters);
            return owner.HangUnregister ? owner.HangThen(() => inner.UnregisterAsync(session, url, cancellationToken), cancellationToken) : inner.UnregisterAsync(session, url, cancellationToken);
        }

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) =>
            inner.WatchAsync(subscription, watcher, cancellationToken);

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
