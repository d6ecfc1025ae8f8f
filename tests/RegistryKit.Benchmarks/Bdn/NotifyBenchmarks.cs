using BenchmarkDotNet.Attributes;
using RegistryKit.Registry;
using RegistryKit.Transport;

namespace RegistryKit.Benchmarks.Bdn;

/// <summary>
/// A snapshot of 100 providers (one changed since the last) reaching every listener of a subscription: parse, filter,
/// group, compare with what was notified, and deliver to each listener's pump.
/// </summary>
[MemoryDiagnoser]
public class NotifyBenchmarks
{
    private readonly CapturingTransport _transport = new();
    private RegistryFactory _factory = null!;
    private CountingListener[] _listeners = [];
    private string[][] _snapshots = [];
    private long _revision;
    private long _expected;

    [Params(1, 16)]
    public int Listeners { get; set; }

    [Params(100)]
    public int Providers { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _factory = new RegistryFactory([new("capture", _transport)], new RegistryOptions { CacheEnabled = false });
        IRegistry registry = await _factory.GetRegistryAsync(ServiceUrl.Parse("capture://127.0.0.1:2379/"));
        ServiceUrl subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter?category=providers");
        _listeners = [.. Enumerable.Range(0, Listeners).Select(_ => new CountingListener())];
        foreach (CountingListener listener in _listeners)
        {
            await registry.SubscribeAsync(subscription, listener);
        }

        // Two views that differ in one provider, so that every snapshot is news.
        _snapshots =
        [
            [.. Enumerable.Range(0, Providers).Select(i => $"tri://10.0.{i / 250}.{i % 250}:20880/com.example.Greeter?application=shop&side=provider&timeout=3000")],
            [.. Enumerable.Range(1, Providers).Select(i => $"tri://10.0.{i / 250}.{i % 250}:20880/com.example.Greeter?application=shop&side=provider&timeout=3000")],
        ];
        _expected = _listeners.Sum(l => l.Count);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _factory.DisposeAsync();

    [Benchmark]
    public void SnapshotToEveryListener()
    {
        _revision++;
        _transport.Watcher!.OnSnapshot(new TransportSnapshot(_revision, _snapshots[_revision & 1]));
        _expected += Listeners;
        var spinner = default(SpinWait);
        while (Delivered() < _expected)
        {
            spinner.SpinOnce();
        }
    }

    private long Delivered()
    {
        long total = 0;
        foreach (CountingListener listener in _listeners)
        {
            total += listener.Count;
        }

        return total;
    }

    private sealed class CountingListener : INotifyListener
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public ValueTask NotifyAsync(IReadOnlyList<ServiceUrl> urls, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return default;
        }
    }

    /// <summary>Hands the benchmark the engine's watcher, so that it can push snapshots as a transport would.</summary>
    private sealed class CapturingTransport : IRegistryTransport, IRegistryTransportFactory, IAsyncDisposable
    {
        public ITransportWatcher? Watcher { get; private set; }

        public IRegistryTransport CreateTransport(ServiceUrl registryUrl) => this;

        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
            new(new RegistrySession("capture", ttl, ttl / 3));

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => default;

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => default;

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => default;

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => default;

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken)
        {
            Watcher = watcher;
            return new(this);
        }

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) =>
            new(new TransportSnapshot(0, []));

        public ValueTask DisposeAsync() => default;
    }
}
