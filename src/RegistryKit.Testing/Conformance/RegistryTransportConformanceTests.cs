using NUnit.Framework;
using RegistryKit.Transport;

namespace RegistryKit.Testing.Conformance;

/// <summary>
/// The behaviour every <see cref="IRegistryTransport"/> must show. Derive a test fixture from this class, say how to
/// make a client of one registry and how to let time pass, and the suite runs against your adapter.
/// </summary>
/// <remarks>
/// Each test is guarded by a 30-second cancellation so that a broken adapter fails instead of hanging the run.
/// </remarks>
[CancelAfter(30_000)]
public abstract class RegistryTransportConformanceTests
{
    private readonly List<IRegistryTransport> _transports = [];
    private readonly List<IAsyncDisposable> _watches = [];

    /// <summary>Gets the session TTL the tests ask for. The registry may grant a longer one.</summary>
    protected virtual TimeSpan SessionTtl => TimeSpan.FromSeconds(5);

    /// <summary>Gets the cancellation token of the running test.</summary>
    protected static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    /// <summary>Creates a new client of the registry under test; every call's client talks to the same registry.</summary>
    /// <returns>The transport.</returns>
    protected abstract ValueTask<IRegistryTransport> CreateTransportAsync();

    /// <summary>Lets <paramref name="duration"/> pass on the registry's clock (advance a manual clock, or wait for a real one).</summary>
    /// <param name="duration">How long.</param>
    /// <returns>A task that completes when the time has passed.</returns>
    protected abstract ValueTask AdvanceAsync(TimeSpan duration);

    /// <summary>Disposes every watch and transport the test created.</summary>
    /// <returns>A task that completes when they are disposed.</returns>
    [TearDown]
    public async Task DisposeClientsAsync()
    {
        foreach (IAsyncDisposable watch in _watches)
        {
            await watch.DisposeAsync();
        }

        foreach (IRegistryTransport transport in _transports)
        {
            await transport.DisposeAsync();
        }

        _watches.Clear();
        _transports.Clear();
    }

    /// <summary>A registration is visible to lookup and to another client's watch.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Register_IsVisibleToLookupAndToAnotherClientsWatch()
    {
        IRegistryTransport provider = await ClientAsync();
        IRegistryTransport consumer = await ClientAsync();
        RecordingWatcher watcher = await WatchAsync(consumer, Subscription("com.example.Greeter"));
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);

        ServiceUrl url = Provider("com.example.Greeter", 20880);
        await provider.RegisterAsync(session, url, TestToken);

        await watcher.WaitForAsync(s => Urls(s).Contains(url), TestToken);
        TransportSnapshot looked = await consumer.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(Urls(looked), Is.EquivalentTo(new[] { url }));
    }

    /// <summary>Unregistering removes the URL from lookup and from watches.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Unregister_RemovesTheUrl()
    {
        IRegistryTransport provider = await ClientAsync();
        RecordingWatcher watcher = await WatchAsync(provider, Subscription("com.example.Greeter"));
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 20880);
        await provider.RegisterAsync(session, url, TestToken);
        await watcher.WaitForAsync(s => Urls(s).Contains(url), TestToken);

        await provider.UnregisterAsync(session, url, TestToken);

        await watcher.WaitForAsync(s => s.Entries.Count == 0, TestToken);
        Assert.That((await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken)).Entries, Is.Empty);
        Assert.That(async () => await provider.UnregisterAsync(session, url, TestToken), Throws.Nothing, "removing a URL that is gone changes nothing");
    }

    /// <summary>
    /// An unregister from an older session leaves alone a registration a newer session has made of the same URL since
    /// (a process restarted on the same address, or a session that replaced a lost one): the late call of the old one
    /// must not remove what the new one registered.
    /// </summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Unregister_FromAnOlderSession_LeavesTheNewerRegistration()
    {
        IRegistryTransport oldProcess = await ClientAsync();
        IRegistryTransport newProcess = await ClientAsync();
        RegistrySession older = await oldProcess.OpenSessionAsync(SessionTtl, TestToken);
        RegistrySession newer = await newProcess.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 20880);
        await oldProcess.RegisterAsync(older, url, TestToken);
        await newProcess.RegisterAsync(newer, url, TestToken);

        await oldProcess.UnregisterAsync(older, url, TestToken);
        await oldProcess.CloseSessionAsync(older, TestToken);

        TransportSnapshot looked = await newProcess.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(Urls(looked), Is.EquivalentTo(new[] { url }), "the newer session's registration survives the older session's unregister and close");
        await newProcess.UnregisterAsync(newer, url, TestToken);
        Assert.That((await newProcess.LookupAsync(Subscription("com.example.Greeter"), TestToken)).Entries, Is.Empty, "its own session still removes it");
    }

    /// <summary>A session that is not kept alive expires; its keys disappear and watchers are told.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Session_NotKeptAlive_ExpiresAndItsKeysDisappear()
    {
        IRegistryTransport provider = await ClientAsync();
        IRegistryTransport consumer = await ClientAsync();
        RecordingWatcher watcher = await WatchAsync(consumer, Subscription("com.example.Greeter"));
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 20880);
        await provider.RegisterAsync(session, url, TestToken);
        await watcher.WaitForAsync(s => Urls(s).Contains(url), TestToken);

        await AdvanceAsync(session.Ttl + session.Ttl);

        await watcher.WaitForAsync(s => s.Entries.Count == 0, TestToken);
        Assert.That((await consumer.LookupAsync(Subscription("com.example.Greeter"), TestToken)).Entries, Is.Empty);
        Assert.That(async () => await provider.KeepAliveAsync(session, TestToken), Throws.InstanceOf<RegistrySessionLostException>());
    }

    /// <summary>Heartbeats at the session's interval keep its keys past the TTL.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task KeepAlive_AtTheSessionsInterval_KeepsItsKeys()
    {
        IRegistryTransport provider = await ClientAsync();
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 20880);
        await provider.RegisterAsync(session, url, TestToken);
        Assert.That(session.HeartbeatInterval, Is.LessThan(session.Ttl));

        TimeSpan passed = TimeSpan.Zero;
        while (passed < session.Ttl * 3)
        {
            await AdvanceAsync(session.HeartbeatInterval);
            passed += session.HeartbeatInterval;
            await provider.KeepAliveAsync(session, TestToken);
        }

        TransportSnapshot looked = await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(Urls(looked), Is.EquivalentTo(new[] { url }));
    }

    /// <summary>A heartbeat for a session the registry does not know reports the session lost.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task KeepAlive_UnknownSession_ReportsSessionLost()
    {
        IRegistryTransport client = await ClientAsync();
        RegistrySession session = await client.OpenSessionAsync(SessionTtl, TestToken);
        await client.CloseSessionAsync(session, TestToken);

        Assert.That(async () => await client.KeepAliveAsync(session, TestToken), Throws.InstanceOf<RegistrySessionLostException>());
        Assert.That(
            async () => await client.RegisterAsync(session, Provider("com.example.Greeter", 1), TestToken),
            Throws.InstanceOf<RegistrySessionLostException>());
    }

    /// <summary>A watch gets a first snapshot, then every change, with revisions that only grow.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Watch_InitialSnapshotThenChangesInRevisionOrder()
    {
        IRegistryTransport provider = await ClientAsync();
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl first = Provider("com.example.Greeter", 1);
        ServiceUrl second = Provider("com.example.Greeter", 2);
        await provider.RegisterAsync(session, first, TestToken);

        RecordingWatcher watcher = await WatchAsync(await ClientAsync(), Subscription("com.example.Greeter"));
        await watcher.WaitForAsync(s => Urls(s).Contains(first), TestToken);
        await provider.RegisterAsync(session, second, TestToken);
        await provider.UnregisterAsync(session, first, TestToken);

        await watcher.WaitForAsync(s => Urls(s).SetEquals([second]), TestToken);
        IReadOnlyList<TransportSnapshot> seen = watcher.Snapshots;
        Assert.That(Urls(seen[0]), Is.EquivalentTo(new[] { first }), "the first snapshot shows what was there");
        Assert.That(seen.Select(s => s.Revision), Is.Ordered.Ascending);
        Assert.That(seen.Select(s => s.Revision).Distinct().Count(), Is.EqualTo(seen.Count), "no revision twice");
    }

    /// <summary>A watch sees only its own service, and a <c>*</c> watch sees every service.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Watch_SeesOnlyItsServiceUnlessWildcard()
    {
        IRegistryTransport provider = await ClientAsync();
        RecordingWatcher greeter = await WatchAsync(provider, Subscription("com.example.Greeter"));
        RecordingWatcher all = await WatchAsync(provider, Subscription("*"));
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl a = Provider("com.example.Greeter", 1);
        ServiceUrl b = Provider("com.example.Other", 2);

        await provider.RegisterAsync(session, a, TestToken);
        await provider.RegisterAsync(session, b, TestToken);

        await all.WaitForAsync(s => Urls(s).SetEquals([a, b]), TestToken);
        await greeter.WaitForAsync(s => Urls(s).Contains(a), TestToken);
        Assert.That(greeter.Snapshots.SelectMany(Urls), Has.None.EqualTo(b));
    }

    /// <summary>Closing a session removes everything registered under it.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task CloseSession_RemovesItsKeys()
    {
        IRegistryTransport provider = await ClientAsync();
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        RegistrySession other = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl mine = Provider("com.example.Greeter", 1);
        ServiceUrl theirs = Provider("com.example.Greeter", 2);
        await provider.RegisterAsync(session, mine, TestToken);
        await provider.RegisterAsync(other, theirs, TestToken);

        await provider.CloseSessionAsync(session, TestToken);

        TransportSnapshot looked = await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(Urls(looked), Is.EquivalentTo(new[] { theirs }));
        Assert.That(async () => await provider.CloseSessionAsync(session, TestToken), Throws.Nothing, "closing a closed session changes nothing");
    }

    /// <summary>Registering the same URL twice leaves one registration.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Register_Twice_IsIdempotent()
    {
        IRegistryTransport provider = await ClientAsync();
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 1);

        await provider.RegisterAsync(session, url, TestToken);
        await provider.RegisterAsync(session, url, TestToken);

        TransportSnapshot looked = await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(looked.Entries, Has.Count.EqualTo(1));
    }

    /// <summary>Service names with characters that mean something in keys or paths are stored and found safely.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Register_AwkwardServiceNames_AreKeptApart()
    {
        IRegistryTransport provider = await ClientAsync();
        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        ServiceUrl slashy = Provider("a/b", 1);
        ServiceUrl prefix = Provider("a", 2);
        ServiceUrl dots = Provider("../..", 3);

        foreach (ServiceUrl url in new[] { slashy, prefix, dots })
        {
            await provider.RegisterAsync(session, url, TestToken);
        }

        Assert.That(Urls(await provider.LookupAsync(Subscription("a"), TestToken)), Is.EquivalentTo(new[] { prefix }));
        Assert.That(Urls(await provider.LookupAsync(Subscription("a/b"), TestToken)), Is.EquivalentTo(new[] { slashy }));
        Assert.That(Urls(await provider.LookupAsync(Subscription("../.."), TestToken)), Is.EquivalentTo(new[] { dots }));
    }

    /// <summary>A disposed watch receives nothing more.</summary>
    /// <returns>The test.</returns>
    [Test]
    public async Task Watch_Disposed_ReceivesNothingMore()
    {
        IRegistryTransport provider = await ClientAsync();
        var watcher = new RecordingWatcher();
        IAsyncDisposable watch = await provider.WatchAsync(Subscription("com.example.Greeter"), watcher, TestToken);
        await watcher.WaitForAsync(_ => true, TestToken);
        await watch.DisposeAsync();
        int seen = watcher.Snapshots.Count;

        RegistrySession session = await provider.OpenSessionAsync(SessionTtl, TestToken);
        await provider.RegisterAsync(session, Provider("com.example.Greeter", 1), TestToken);
        TransportSnapshot looked = await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken);

        Assert.That(looked.Entries, Has.Count.EqualTo(1));
        Assert.That(watcher.Snapshots, Has.Count.EqualTo(seen));
    }

    /// <summary>Makes a provider URL for <paramref name="service"/>.</summary>
    /// <param name="service">The service interface.</param>
    /// <param name="port">The port.</param>
    /// <returns>The URL.</returns>
    protected static ServiceUrl Provider(string service, int port) =>
        ServiceUrl.Create("dubbo", "10.0.0.1", port, parameters: [new(ServiceUrlKeys.Interface, service), new("side", "provider")]);

    /// <summary>Makes a consumer's subscription URL for <paramref name="service"/>.</summary>
    /// <param name="service">The service interface, or <c>*</c>.</param>
    /// <returns>The URL.</returns>
    protected static ServiceUrl Subscription(string service) =>
        ServiceUrl.Create("consumer", "10.0.0.9", parameters: [new(ServiceUrlKeys.Interface, service)]);

    /// <summary>Parses a snapshot's entries.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <returns>The URLs.</returns>
    protected static HashSet<ServiceUrl> Urls(TransportSnapshot snapshot) => [.. snapshot.Entries.Select(ServiceUrl.Parse)];

    private async Task<IRegistryTransport> ClientAsync()
    {
        IRegistryTransport transport = await CreateTransportAsync();
        _transports.Add(transport);
        return transport;
    }

    private async Task<RecordingWatcher> WatchAsync(IRegistryTransport transport, ServiceUrl subscription)
    {
        var watcher = new RecordingWatcher();
        _watches.Add(await transport.WatchAsync(subscription, watcher, TestToken));
        return watcher;
    }
}
