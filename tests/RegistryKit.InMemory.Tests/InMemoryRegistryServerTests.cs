using RegistryKit.Testing;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.InMemory.Tests;

public class InMemoryRegistryServerTests
{
    private static readonly ServiceUrl s_registry = ServiceUrl.Parse("memory://");
    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://10.0.0.9/com.example.Greeter");

    private ManualTimeProvider _time = null!;
    private InMemoryRegistryServer _server = null!;
    private IRegistryTransport _client = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _server = new InMemoryRegistryServer(_time);
        _client = new InMemoryRegistryTransportFactory(_server).CreateTransport(s_registry);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _client.DisposeAsync();
        _server.Dispose();
    }

    [Test]
    public async Task Session_ExpiresExactlyAtItsTtl()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(9), default);
        await _client.RegisterAsync(session, Provider(1), default);
        Assert.That(session.HeartbeatInterval, Is.EqualTo(TimeSpan.FromSeconds(3)), "etcd style: a third of the TTL");

        _time.Advance(TimeSpan.FromSeconds(9) - TimeSpan.FromTicks(1));
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(_server.GetEntries(), Is.Empty);
        Assert.That(_server.ExpiredSessionCount, Is.EqualTo(1));
        Assert.That(_time.ScheduledTimers, Is.Zero, "no expiry timer is left armed without sessions");
    }

    [Test]
    public async Task OpenSession_TtlBelowMinimum_IsRaised()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromMilliseconds(10), default);

        Assert.That(session.Ttl, Is.EqualTo(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task FailNextCalls_FailsThatManyThenRecovers()
    {
        _server.Faults.FailNextCalls(2);

        Assert.That(async () => await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default), Throws.InstanceOf<RegistryTransportException>().With.Property("IsTransient").True);
        Assert.That(async () => await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default), Throws.InstanceOf<RegistryTransportException>());
        Assert.That(async () => await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default), Throws.Nothing);
        Assert.That(_server.Faults.InjectedCount, Is.EqualTo(2));
        Assert.That(_server.SessionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task LoseNextReplies_WriteTakesEffectButCallFails()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default);
        _server.Faults.LoseNextReplies(1);

        Assert.That(async () => await _client.RegisterAsync(session, Provider(1), default), Throws.InstanceOf<RegistryTransportException>());

        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1), "the write happened even though the caller saw a failure");
        Assert.That(async () => await _client.RegisterAsync(session, Provider(1), default), Throws.Nothing);
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task MakeUnreachable_FailsCallsAndDropsWatchesUntilItEnds()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(30), default);
        var watcher = new RecordingWatcher();
        await _client.WatchAsync(s_subscription, watcher, default);

        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(10));

        Assert.That(watcher.LostReason, Is.InstanceOf<RegistryTransportException>());
        Assert.That(_server.Faults.IsUnreachable, Is.True);
        Assert.That(async () => await _client.KeepAliveAsync(session, default), Throws.InstanceOf<RegistryTransportException>());
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(_server.Faults.IsUnreachable, Is.False);
        Assert.That(async () => await _client.KeepAliveAsync(session, default), Throws.Nothing);
    }

    [Test]
    public async Task MakeUnreachable_SessionsNotKeptAliveExpireMeanwhile()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default);
        await _client.RegisterAsync(session, Provider(1), default);

        _server.Faults.MakeUnreachable(TimeSpan.FromSeconds(20));
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.That(async () => await _client.KeepAliveAsync(session, default), Throws.InstanceOf<RegistrySessionLostException>());
        Assert.That(_server.GetEntries(), Is.Empty);
    }

    [Test]
    public async Task CallDelay_DelaysOnTheServersClock()
    {
        _server.Faults.CallDelay = TimeSpan.FromSeconds(2);

        ValueTask<RegistrySession> open = _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default);
        Assert.That(open.IsCompleted, Is.False);

        _time.Advance(TimeSpan.FromSeconds(2));
        RegistrySession session = await open;
        Assert.That(session.Ttl, Is.EqualTo(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task Restart_LosingState_ForgetsSessionsEntriesAndRevisionAndDropsWatches()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(30), default);
        await _client.RegisterAsync(session, Provider(1), default);
        var watcher = new RecordingWatcher();
        await _client.WatchAsync(s_subscription, watcher, default);

        _server.Restart(loseState: true);

        Assert.That(watcher.LostReason, Is.Not.Null);
        Assert.That(_server.GetEntries(), Is.Empty);
        Assert.That(_server.Revision, Is.Zero);
        Assert.That(_server.WatchCount, Is.Zero);
        Assert.That(async () => await _client.KeepAliveAsync(session, default), Throws.InstanceOf<RegistrySessionLostException>());
    }

    [Test]
    public async Task Restart_KeepingState_KeepsEntriesAndDropsWatches()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(30), default);
        await _client.RegisterAsync(session, Provider(1), default);
        var watcher = new RecordingWatcher();
        await _client.WatchAsync(s_subscription, watcher, default);

        _server.Restart(loseState: false);

        Assert.That(watcher.LostReason, Is.Not.Null);
        Assert.That(_server.GetEntries(), Has.Count.EqualTo(1));
        Assert.That(async () => await _client.KeepAliveAsync(session, default), Throws.Nothing);
    }

    [Test]
    public async Task Limits_RefusePermanentlyBeyondThem()
    {
        using var small = new InMemoryRegistryServer(_time, new InMemoryRegistryServerOptions { MaxEntries = 1, MaxSessions = 1 });
        await using IRegistryTransport client = new InMemoryRegistryTransportFactory(small).CreateTransport(s_registry);
        RegistrySession session = await client.OpenSessionAsync(TimeSpan.FromSeconds(5), default);
        await client.RegisterAsync(session, Provider(1), default);

        Assert.That(async () => await client.RegisterAsync(session, Provider(2), default), Throws.InstanceOf<RegistryTransportException>().With.Property("IsTransient").False);
        Assert.That(async () => await client.OpenSessionAsync(TimeSpan.FromSeconds(5), default), Throws.InstanceOf<RegistryTransportException>().With.Property("IsTransient").False);
    }

    [Test]
    public void Options_Invalid_ThrowNamingTheSetting()
    {
        Assert.That(
            () => new InMemoryRegistryServer(_time, new InMemoryRegistryServerOptions { MaxEntries = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("MaxEntries"));
        Assert.That(
            () => new InMemoryRegistryServer(_time, new InMemoryRegistryServerOptions { MinSessionTtl = TimeSpan.Zero }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("MinSessionTtl"));
    }

    [Test]
    public void Factory_OtherScheme_ThrowsNamingTheForm()
    {
        var factory = new InMemoryRegistryTransportFactory(_server);

        Assert.That(
            () => factory.CreateTransport(ServiceUrl.Parse("etcd://127.0.0.1:2379")),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("registryUrl").And.Message.Contains("memory://"));
    }

    [Test]
    public async Task Watcher_ThatThrows_LosesItsWatchButTheWriterSucceeds()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(30), default);
        await _client.WatchAsync(s_subscription, new ThrowingWatcher(), default);

        Assert.That(async () => await _client.RegisterAsync(session, Provider(1), default), Throws.Nothing);
        Assert.That(_server.WatchCount, Is.Zero);
    }

    [Test]
    public async Task ExpiringSession_WithSeveralKeys_WatchSeesTheNewestStateOnceWithGrowingRevisions()
    {
        RegistrySession session = await _client.OpenSessionAsync(TimeSpan.FromSeconds(5), default);
        for (int port = 1; port <= 3; port++)
        {
            await _client.RegisterAsync(session, Provider(port), default);
        }

        var watcher = new RecordingWatcher();
        await _client.WatchAsync(s_subscription, watcher, default);
        _time.Advance(TimeSpan.FromSeconds(5));

        // Three keys vanish in one expiry; the watch's queue keeps only the newest complete snapshot.
        IReadOnlyList<TransportSnapshot> seen = watcher.Snapshots;
        Assert.That(seen.Select(s => s.Entries.Count), Is.EqualTo(new[] { 3, 0 }));
        Assert.That(seen.Select(s => s.Revision), Is.Ordered.Ascending);
        Assert.That(seen[^1].Revision, Is.EqualTo(_server.Revision));
    }

    private static ServiceUrl Provider(int port) => ServiceUrl.Parse($"dubbo://10.0.0.1:{port}/com.example.Greeter");

    private sealed class ThrowingWatcher : ITransportWatcher
    {
        public void OnSnapshot(TransportSnapshot snapshot)
        {
            if (snapshot.Entries.Count > 0)
            {
                throw new InvalidOperationException("listener bug");
            }
        }

        public void OnLost(Exception reason)
        {
        }
    }
}
