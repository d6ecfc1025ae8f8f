using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

[CancelAfter(60_000)]
public class EtcdRegistryTransportTests
{
    private static readonly TimeSpan s_ttl = TimeSpan.FromSeconds(2);
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly ProgressLoggerFactory _logs = new();
    private EtcdServer _etcd = null!;
    private string _root = null!;

    private static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    [OneTimeSetUp]
    public async Task StartEtcdAsync() => _etcd = await EtcdServer.RequireSharedAsync();

    [SetUp]
    public void SetUpRoot() => _root = "/tests/" + Guid.NewGuid().ToString("N");

    [TearDown]
    public async Task DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        _disposables.Clear();
    }

    [Test]
    public async Task KeepAlive_RevokedLease_ThrowsSessionLost()
    {
        IRegistryTransport transport = Client(_etcd);
        RegistrySession session = await transport.OpenSessionAsync(s_ttl, TestToken);
        await _etcd.PostAsync("lease/revoke", $"{{\"ID\":\"{session.Id}\"}}");

        Assert.That(async () => await transport.KeepAliveAsync(session, TestToken), Throws.InstanceOf<RegistrySessionLostException>());
    }

    [Test]
    public async Task OpenSession_ShortTtl_IsRaisedToTheMinimum_WithAHeartbeatAtAThird()
    {
        IRegistryTransport transport = Client(_etcd);

        RegistrySession session = await transport.OpenSessionAsync(TimeSpan.FromMilliseconds(300), TestToken);

        Assert.That(session.Ttl, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(session.HeartbeatInterval, Is.EqualTo(session.Ttl / 3));
    }

    [Test]
    public async Task Register_Twice_WritesTheKeyOnce()
    {
        var transport = (EtcdRegistryTransport)Client(_etcd);
        RegistrySession session = await transport.OpenSessionAsync(s_ttl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 1);

        await transport.RegisterAsync(session, url, TestToken);
        long revision = (await transport.LookupAsync(Subscription("com.example.Greeter"), TestToken)).Revision;
        await transport.RegisterAsync(session, url, TestToken);

        TransportSnapshot looked = await transport.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(looked.Entries, Is.EqualTo(new[] { url.ToFullString() }));
        Assert.That(looked.Revision, Is.EqualTo(revision), "the second registration changed nothing in etcd");
    }

    [Test]
    public async Task Register_KeyOfAnEarlierSession_MovesItToTheNewLease()
    {
        IRegistryTransport transport = Client(_etcd);
        RegistrySession earlier = await transport.OpenSessionAsync(s_ttl, TestToken);
        RegistrySession current = await transport.OpenSessionAsync(s_ttl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 1);
        await transport.RegisterAsync(earlier, url, TestToken);

        await transport.RegisterAsync(current, url, TestToken);
        await transport.CloseSessionAsync(earlier, TestToken);

        TransportSnapshot looked = await transport.LookupAsync(Subscription("com.example.Greeter"), TestToken);
        Assert.That(looked.Entries, Is.EqualTo(new[] { url.ToFullString() }), "the key now lives on the current lease");
    }

    [Test]
    public async Task Watch_CompactedStartRevision_ListsAgain()
    {
        IRegistryTransport provider = Client(_etcd);
        IRegistryTransport consumer = Client(_etcd);
        RegistrySession session = await provider.OpenSessionAsync(s_ttl, TestToken);
        ServiceUrl first = Provider("com.example.Greeter", 1);
        ServiceUrl second = Provider("com.example.Greeter", 2);
        await provider.RegisterAsync(session, first, TestToken);
        RecordingWatcher watcher = await WatchAsync(consumer, "com.example.Greeter");
        await watcher.WaitForAsync(s => s.Entries.Count == 1, TestToken);

        long before = watcher.Last!.Revision;
        await provider.RegisterAsync(session, second, TestToken);
        await provider.UnregisterAsync(session, first, TestToken);
        long now = (await provider.LookupAsync(Subscription("com.example.Greeter"), TestToken)).Revision;
        await _etcd.PostAsync("kv/compaction", $"{{\"revision\":\"{now.ToString(CultureInfo.InvariantCulture)}\"}}");

        // As after a dropped stream whose resume revision was compacted while it was down.
        var resumed = new RecordingWatcher();
        var client = (EtcdRegistryTransport)consumer;
        await using EtcdWatch watch = EtcdWatch.Resume(
            client.Client, client.Keys.PrefixOf(Subscription("com.example.Greeter")), resumed, TimeProvider.System, NullLogger.Instance, before);
        TransportSnapshot relisted = await resumed.WaitForAsync(s => Urls(s).SetEquals([second]), TestToken);

        Assert.That(resumed.Snapshots, Has.Count.EqualTo(1), "the compacted events are not replayed; the listing replaces them");
        Assert.That(relisted.Revision, Is.GreaterThanOrEqualTo(now));
        Assert.That(resumed.LostReason, Is.Null, "a compacted revision lists again; it does not lose the watch");
    }

    [Test]
    public async Task Watch_EtcdRestartedOnTheSameData_ResumesWithoutLosingAnEvent()
    {
        EtcdServer own = await EtcdServer.StartOwnAsync();
        _disposables.Add(own);
        IRegistryTransport provider = Client(own);
        IRegistryTransport consumer = Client(own);
        RegistrySession session = await provider.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        ServiceUrl before = Provider("com.example.Greeter", 1);
        ServiceUrl during = Provider("com.example.Greeter", 2);
        ServiceUrl after = Provider("com.example.Greeter", 3);
        await provider.RegisterAsync(session, before, TestToken);
        RecordingWatcher watcher = await WatchAsync(consumer, "com.example.Greeter");
        await watcher.WaitForAsync(s => Urls(s).Contains(before), TestToken);

        await own.StopAsync();
        await own.StartAgainAsync();

        // Written right after the restart, possibly before the watch reconnects: a resume from the last revision sees it.
        await provider.RegisterAsync(session, during, TestToken);
        await provider.RegisterAsync(session, after, TestToken);

        await watcher.WaitForAsync(s => Urls(s).SetEquals([before, during, after]), TestToken);
        Assert.That(watcher.LostReason, Is.Null, "a dropped stream resumes silently");
        Assert.That(watcher.Snapshots.Select(s => s.Revision), Is.Ordered.Ascending);
    }

    [Test]
    public async Task Watch_EtcdRestartedOnAnEmptyDataDirectory_IsReportedLost()
    {
        EtcdServer own = await EtcdServer.StartOwnAsync();
        _disposables.Add(own);
        IRegistryTransport provider = Client(own);
        RegistrySession session = await provider.OpenSessionAsync(TimeSpan.FromSeconds(30), TestToken);
        for (int port = 1; port <= 3; port++)
        {
            await provider.RegisterAsync(session, Provider("com.example.Greeter", port), TestToken);
        }

        RecordingWatcher watcher = await WatchAsync(Client(own), "com.example.Greeter");
        await watcher.WaitForAsync(s => s.Entries.Count == 3, TestToken);

        await own.RestartEmptyAsync();

        while (watcher.LostReason is null)
        {
            await Task.Delay(50, TestToken);
        }

        Assert.That(watcher.LostReason, Is.InstanceOf<RegistryTransportException>().With.Message.Contain("went back"));
    }

    [Test]
    public async Task Session_ClientStopsHeartbeating_ItsKeysGoAndAnotherClientsWatcherIsTold()
    {
        IRegistryTransport provider = Client(_etcd);
        IRegistryTransport consumer = Client(_etcd);
        RecordingWatcher watcher = await WatchAsync(consumer, "com.example.Greeter");
        RegistrySession session = await provider.OpenSessionAsync(s_ttl, TestToken);
        ServiceUrl url = Provider("com.example.Greeter", 1);
        await provider.RegisterAsync(session, url, TestToken);
        await watcher.WaitForAsync(s => Urls(s).Contains(url), TestToken);

        // No heartbeat: etcd expires the lease after its TTL and deletes its keys.
        await watcher.WaitForAsync(s => s.Entries.Count == 0, TestToken);

        Assert.That(async () => await provider.KeepAliveAsync(session, TestToken), Throws.InstanceOf<RegistrySessionLostException>());
        Assert.That(
            async () => await provider.RegisterAsync(session, url, TestToken),
            Throws.InstanceOf<RegistrySessionLostException>(),
            "a put under the dead lease reports the session lost");
    }

    [Test]
    public async Task Call_GatewayRejectsTheRequest_IsNotTransient()
    {
        var transport = (EtcdRegistryTransport)Client(_etcd);

        // An empty key is InvalidArgument (HTTP 400, code 3).
        RegistryTransportException? failure = Assert.ThrowsAsync<RegistryTransportException>(async () =>
            await transport.Client.CallAsync(
                "kv/put",
                new Wire.PutRequest { Key = [], Value = [1] },
                Wire.EtcdJsonContext.Default.PutRequest,
                Wire.EtcdJsonContext.Default.HeaderResponse,
                TestToken));

        Assert.That(failure!.IsTransient, Is.False);
        Assert.That(failure.Message, Does.Contain("key is not provided").And.Contain("InvalidArgument"));
    }

    [Test]
    public async Task Call_EveryEndpointDown_IsTransientAndNamesNoCredentials()
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { AllowPasswordOverHttp = true, CallTimeout = TimeSpan.FromSeconds(2) });
        IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse("etcd://alice:s3cr3t-pw@127.0.0.1:1?backup=127.0.0.1:2"));
        _disposables.Add(transport);

        RegistryTransportException? failure = Assert.ThrowsAsync<RegistryTransportException>(async () => await transport.OpenSessionAsync(s_ttl, TestToken));

        Assert.That(failure!.IsTransient, Is.True);
        Assert.That(failure.Message, Does.Contain("127.0.0.1:1").And.Contain("127.0.0.1:2"));
        Assert.That(failure.ToString(), Does.Not.Contain("s3cr3t-pw"));
    }

    [Test]
    public async Task Call_FirstEndpointDown_FailsOverToTheBackup()
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { Root = _root });
        IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse($"etcd://127.0.0.1:1?backup=127.0.0.1:{_etcd.ClientPort}"));
        _disposables.Add(transport);

        RegistrySession session = await transport.OpenSessionAsync(s_ttl, TestToken);

        Assert.That(session.Id, Is.Not.Empty);
    }

    [Test]
    public async Task Call_CredentialsButAuthOff_GoesOnWithoutAToken()
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { Root = _root, AllowPasswordOverHttp = true });
        IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse($"etcd://alice:s3cr3t-pw@127.0.0.1:{_etcd.ClientPort}"));
        _disposables.Add(transport);

        // Auth is off on the test etcd: the transport notices (412 code 9) and goes on without a token.
        RegistrySession session = await transport.OpenSessionAsync(s_ttl, TestToken);
        await transport.CloseSessionAsync(session, TestToken);

        Assert.That(session.ToString(), Does.Not.Contain("s3cr3t-pw"));
    }

    internal static ServiceUrl Provider(string service, int port) =>
        ServiceUrl.Create("dubbo", "10.0.0.1", port, parameters: [new(ServiceUrlKeys.Interface, service), new("side", "provider")]);

    internal static ServiceUrl Subscription(string service) =>
        ServiceUrl.Create("consumer", "10.0.0.9", parameters: [new(ServiceUrlKeys.Interface, service)]);

    private static HashSet<ServiceUrl> Urls(TransportSnapshot snapshot) => [.. snapshot.Entries.Select(ServiceUrl.Parse)];

    private IRegistryTransport Client(EtcdServer server)
    {
        var factory = new EtcdRegistryTransportFactory(new EtcdOptions { Root = _root }, loggerFactory: _logs);
        IRegistryTransport transport = factory.CreateTransport(ServiceUrl.Parse(server.Address));
        _disposables.Add(transport);
        return transport;
    }

    private async Task<RecordingWatcher> WatchAsync(IRegistryTransport transport, string service)
    {
        var watcher = new RecordingWatcher();
        _disposables.Add(await transport.WatchAsync(Subscription(service), watcher, TestToken));
        return watcher;
    }
}
