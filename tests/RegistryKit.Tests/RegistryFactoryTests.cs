using RegistryKit.InMemory;
using RegistryKit.Registry;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;
using RegistryKit.Transport;

namespace RegistryKit.Tests;

[CancelAfter(20_000)]
public class RegistryFactoryTests
{
    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private InMemoryRegistryServer _server = null!;
    private RegistryFactory _factory = null!;
    private readonly CollectingLoggerFactory _logs = new();
    private string _cacheDirectory = null!;

    [SetUp]
    public void SetUp()
    {
        _cacheDirectory = Path.Combine(Path.GetTempPath(), "registrykit-tests", Guid.NewGuid().ToString("N"));
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time);
        _server = new InMemoryRegistryServer(_time);
        _factory = CreateFactory(check: false);
    }

    [TearDown]
    public async Task TearDown()
    {
        _server.Faults.Clear();
        await _factory.DisposeAsync();
        _timer.Dispose();
        _server.Dispose();
        if (Directory.Exists(_cacheDirectory))
        {
            Directory.Delete(_cacheDirectory, recursive: true);
        }
    }

    [Test]
    public async Task GetRegistry_SameAddress_ReturnsTheSameRegistry()
    {
        IRegistry first = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory:///root?application=a"));
        IRegistry second = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory:///root?application=a"));

        Assert.That(second, Is.SameAs(first));
        Assert.That(_factory.Registries, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task GetRegistry_OnlyVolatileParametersDiffer_ReturnsTheSameRegistry_Dubbo7005()
    {
        IRegistry first = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory:///root?timestamp=1700000000000&pid=12"));
        IRegistry second = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory:///root?timestamp=1700000099999&pid=13"));

        Assert.That(second, Is.SameAs(first));
    }

    [TestCase("memory:///root", "memory:///other")]
    [TestCase("memory:///root?group=a", "memory:///root?group=b")]
    [TestCase("memory:///root?version=1", "memory:///root?version=2")]
    [TestCase("memory://u:p@h:1/root", "memory://u:q@h:1/root")]
    [TestCase("memory://h:1/root", "memory://h:2/root")]
    public async Task GetRegistry_IdentityDiffers_ReturnsAnotherRegistry(string a, string b)
    {
        IRegistry first = await _factory.GetRegistryAsync(ServiceUrl.Parse(a));
        IRegistry second = await _factory.GetRegistryAsync(ServiceUrl.Parse(b));

        Assert.That(second, Is.Not.SameAs(first));
    }

    [Test]
    public void GetRegistry_UnknownScheme_ThrowsListingTheKnownOnes()
    {
        var exception = Assert.ThrowsAsync<ArgumentException>(async () => await _factory.GetRegistryAsync(ServiceUrl.Parse("zookeeper://127.0.0.1:2181")));

        Assert.That(exception!.ParamName, Is.EqualTo("registryUrl"));
        Assert.That(exception.Message, Does.Contain("'zookeeper'").And.Contain("Known schemes: memory"));
    }

    [Test]
    public async Task GetRegistry_ManyThreadsAtOnce_CreateOneRegistry()
    {
        ServiceUrl url = ServiceUrl.Parse("memory:///root");

        IRegistry[] registries = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () => await _factory.GetRegistryAsync(url))));

        Assert.That(registries.Distinct().Count(), Is.EqualTo(1));
        Assert.That(_server.SessionCount, Is.LessThanOrEqualTo(1));
    }

    [Test]
    public async Task GetRegistry_CheckOnAndRegistryUnreachable_ThrowsAndCachesNothing()
    {
        await using RegistryFactory factory = CreateFactory(check: true);
        _server.Faults.MakeUnreachable(TimeSpan.FromMinutes(1));

        var exception = Assert.ThrowsAsync<RegistryException>(async () => await factory.GetRegistryAsync(ServiceUrl.Parse("memory://")));

        Assert.That(exception!.Message, Does.Contain("check=false"));
        Assert.That(factory.Registries, Is.Empty);
        _time.Advance(TimeSpan.FromMinutes(1));
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        Assert.That(registry.IsAvailable, Is.True);
    }

    [Test]
    public async Task GetRegistry_CheckOffAndRegistryUnreachable_ReturnsARegistryThatCatchesUp()
    {
        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(30));
        IRegistry registry = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));

        await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/com.example.Greeter"));
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task DisposedRegistry_LeavesTheFactory()
    {
        IRegistry first = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));

        await first.DisposeAsync();
        IRegistry second = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));

        Assert.That(second, Is.Not.SameAs(first));
    }

    [Test]
    public async Task DestroyAll_DisposesEveryRegistryThenHandsOutNoOps()
    {
        IRegistry registry = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/com.example.Greeter"));

        await _factory.DestroyAllAsync();
        await _factory.DestroyAllAsync();

        Assert.That(_server.GetEntries(), Is.Empty);
        Assert.That(_factory.Registries, Is.Empty);
        IRegistry afterwards = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        Assert.That(afterwards.IsAvailable, Is.False);
        Assert.That(async () => await afterwards.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/x")), Throws.Nothing);
        Assert.That(await afterwards.LookupAsync(ServiceUrl.Parse("consumer://1.2.3.4/x")), Is.Empty);
        Assert.That(_server.GetEntries(), Is.Empty);
    }

    [Test]
    public async Task DestroyAll_RacingGetRegistry_LeavesNoLiveRegistry_Dubbo7265()
    {
        // Dubbo #7265: a registry created while destroyAll ran was never destroyed and kept its session open.
        for (int round = 0; round < 20; round++)
        {
            await using RegistryFactory factory = CreateFactory(check: false);
            var url = ServiceUrl.Parse($"memory:///round{round}");
            Task<IRegistry>[] getters = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () => await factory.GetRegistryAsync(url)))];
            Task destroy = Task.Run(async () => await factory.DestroyAllAsync());

            IRegistry[] handedOut = await Task.WhenAll(getters);
            await destroy;

            // Each one handed out was either disposed by DestroyAll (and says so) or is the harmless no-op.
            foreach (IRegistry registry in handedOut)
            {
                try
                {
                    await registry.RegisterAsync(ServiceUrl.Parse($"dubbo://10.0.0.1:{round + 1}/x"));
                    Assert.That(registry.IsAvailable, Is.False, "only the no-op accepts calls after DestroyAll");
                }
                catch (ObjectDisposedException)
                {
                }
            }

            Assert.That(factory.Registries, Is.Empty, $"round {round}");
            Assert.That(_server.SessionCount, Is.Zero, $"round {round}: a registry outlived DestroyAll");
        }
    }

    [Test]
    public async Task GetStatus_ReportsAvailabilityAndPendingRetries()
    {
        IRegistry registry = await _factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        _server.Faults.FailNextCalls(1);

        await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/x"));

        RegistryStatus status = registry.GetStatus();
        Assert.That(status.IsAvailable, Is.False);
        Assert.That(status.PendingRetries, Is.EqualTo(new PendingRetries(1, 0, 0, 0)));
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(registry.GetStatus().IsAvailable, Is.True);
        Assert.That(registry.GetStatus().PendingRetries.Total, Is.Zero);
    }

    [Test]
    public async Task DestroyAll_OneRegistryFailsToShutDown_OthersStillAreAndItIsLogged()
    {
        var failing = new ThrowingDisposeTransportFactory(new InMemoryRegistryTransportFactory(_server));
        await using var factory = new RegistryFactory(
            [new("memory", new InMemoryRegistryTransportFactory(_server)), new("broken", failing)],
            new RegistryOptions { Check = false, CacheDirectory = _cacheDirectory },
            _time,
            _timer,
            _logs);
        IRegistry good = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        await factory.GetRegistryAsync(ServiceUrl.Parse("broken://"));
        await good.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/com.example.Greeter"));

        await factory.DestroyAllAsync();

        Assert.That(_server.GetEntries(), Is.Empty);
        Assert.That(_logs.Entries.Count(e => e.EventId.Id == 2012 && e.Message.Contains("transport", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(factory.Registries, Is.Empty, "the failing registry still left the factory");
    }

    [Test]
    public async Task Hooks_RunAfterEachOperation_SkippingRegisterForConsumers()
    {
        var hook = new RecordingHook();
        await using RegistryFactory factory = CreateFactory(check: false, hook);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        ServiceUrl provider = ServiceUrl.Parse("dubbo://10.0.0.1:1/com.example.Greeter");
        ServiceUrl consumer = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter");
        var listener = new RecordingListener();

        await registry.RegisterAsync(provider);
        await registry.RegisterAsync(consumer);
        await registry.SubscribeAsync(consumer, listener);
        await registry.UnsubscribeAsync(consumer, listener);
        await registry.UnregisterAsync(provider);

        Assert.That(hook.Calls, Is.EqualTo(new[]
        {
            $"register {provider}",
            $"subscribe {consumer}",
            $"unsubscribe {consumer}",
            $"unregister {provider}",
        }));
    }

    [Test]
    public async Task Hooks_OneThrows_AllRunAndTheCallerGetsTheirExceptions()
    {
        var first = new RecordingHook { Throw = true };
        var second = new RecordingHook { Throw = true };
        var third = new RecordingHook();
        await using RegistryFactory factory = CreateFactory(check: false, first, second, third);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));

        var exception = Assert.ThrowsAsync<AggregateException>(async () => await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/x")));

        Assert.That(exception!.InnerExceptions, Has.Count.EqualTo(2));
        Assert.That(third.Calls, Has.Count.EqualTo(1));
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1), "the registration itself succeeded");
    }

    [Test]
    public async Task Hooks_OperationFailsWithCheck_HooksRunAndTheOperationsExceptionIsThrown()
    {
        var hook = new RecordingHook { Throw = true };
        await using RegistryFactory factory = CreateFactory(check: true, hook);
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse("memory://"));
        _server.Faults.FailNextCalls(1);

        Assert.That(async () => await registry.RegisterAsync(ServiceUrl.Parse("dubbo://10.0.0.1:1/x")), Throws.InstanceOf<RegistryException>());
        Assert.That(hook.Calls, Has.Count.EqualTo(1));
        Assert.That(_logs.Entries.Count(e => e.EventId.Id == 2050), Is.EqualTo(1));
    }

    [Test]
    public void Constructor_SchemeTwice_Throws()
    {
        var memory = new InMemoryRegistryTransportFactory(_server);

        Assert.That(
            () => new RegistryFactory([new("memory", memory), new("MEMORY", memory)]),
            Throws.ArgumentException.With.Message.Contains("given twice"));
    }

    private RegistryFactory CreateFactory(bool check, params IRegistryServiceListener[] hooks) =>
        new(
            [new("memory", new InMemoryRegistryTransportFactory(_server))],
            new RegistryOptions { Check = check, CacheDirectory = _cacheDirectory },
            _time,
            _timer,
            _logs,
            hooks);

    private sealed class RecordingHook : IRegistryServiceListener
    {
        public List<string> Calls { get; } = [];

        public bool Throw { get; init; }

        public void OnRegister(ServiceUrl url, IRegistry registry) => Record($"register {url}");

        public void OnUnregister(ServiceUrl url, IRegistry registry) => Record($"unregister {url}");

        public void OnSubscribe(ServiceUrl url, IRegistry registry) => Record($"subscribe {url}");

        public void OnUnsubscribe(ServiceUrl url, IRegistry registry) => Record($"unsubscribe {url}");

        private void Record(string call)
        {
            Calls.Add(call);
            if (Throw)
            {
                throw new InvalidOperationException("hook bug");
            }
        }
    }

    private sealed class ThrowingDisposeTransportFactory(IRegistryTransportFactory inner) : IRegistryTransportFactory
    {
        public IRegistryTransport CreateTransport(ServiceUrl registryUrl) =>
            new ThrowingDisposeTransport(inner.CreateTransport(ServiceUrl.Parse("memory:///broken")));
    }

    private sealed class ThrowingDisposeTransport(IRegistryTransport inner) : IRegistryTransport
    {
        public ValueTask<RegistrySession> OpenSessionAsync(TimeSpan ttl, CancellationToken cancellationToken) => inner.OpenSessionAsync(ttl, cancellationToken);

        public ValueTask KeepAliveAsync(RegistrySession session, CancellationToken cancellationToken) => inner.KeepAliveAsync(session, cancellationToken);

        public ValueTask CloseSessionAsync(RegistrySession session, CancellationToken cancellationToken) => inner.CloseSessionAsync(session, cancellationToken);

        public ValueTask RegisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.RegisterAsync(session, url, cancellationToken);

        public ValueTask UnregisterAsync(RegistrySession session, ServiceUrl url, CancellationToken cancellationToken) => inner.UnregisterAsync(session, url, cancellationToken);

        public ValueTask<IAsyncDisposable> WatchAsync(ServiceUrl subscription, ITransportWatcher watcher, CancellationToken cancellationToken) => inner.WatchAsync(subscription, watcher, cancellationToken);

        public ValueTask<TransportSnapshot> LookupAsync(ServiceUrl subscription, CancellationToken cancellationToken) => inner.LookupAsync(subscription, cancellationToken);

        public ValueTask DisposeAsync() => throw new InvalidOperationException("transport cannot shut down");
    }
}
