using System.Net;
using System.Text;
using RegistryKit.Samples.CustomTransport.Transport;
using RegistryKit.Testing;
using RegistryKit.Testing.Conformance;
using RegistryKit.Transport;

namespace RegistryKit.Samples.CustomTransport.Tests;

/// <summary>What the adapter does with a master that answers badly: a stub handler plays the master.</summary>
[CancelAfter(30_000)]
public class MasterRegistryTransportTests
{
    private static readonly ServiceUrl s_subscription = ServiceUrl.Parse("consumer://10.0.0.9/greeter");
    private static readonly RegistrySession s_session = new("42", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1));

    [Test]
    public async Task Lookup_SkipsAndCountsEntriesThatAreNotStrings()
    {
        await using var transport = Transport(new StubMaster(HttpStatusCode.OK, """{"revision":7,"entries":[1,null,"dubbo://10.0.0.1:1/greeter",{"a":1}]}"""));

        TransportSnapshot snapshot = await transport.LookupAsync(s_subscription, CancellationToken.None);

        Assert.That(snapshot.Revision, Is.EqualTo(7));
        Assert.That(snapshot.Entries, Is.EqualTo(new[] { "dubbo://10.0.0.1:1/greeter" }));
        Assert.That(transport.MalformedEntries, Is.EqualTo(3));
    }

    [TestCase("not json")]
    [TestCase("""{"revision":"seven","entries":[]}""")]
    [TestCase("""{"revision":7}""")]
    [TestCase("[]")]
    public async Task Lookup_OfAMalformedAnswer_FailsTransiently(string answer)
    {
        await using var transport = Transport(new StubMaster(HttpStatusCode.OK, answer));

        var error = Assert.ThrowsAsync<RegistryTransportException>(async () => await transport.LookupAsync(s_subscription, CancellationToken.None));

        Assert.That(error!.IsTransient, Is.True);
        Assert.That(error.Message, Does.Contain("answered a lookup with something other than"));
    }

    [Test]
    public async Task Watch_SkipsMalformedAndStaleLines_DeliversTheRestInOrder_AndReportsTheEndOfTheStream()
    {
        string stream = string.Join('\n',
            """{"revision":5,"entries":["a"]}""",
            "garbage",
            """{"revision":3,"entries":["stale"]}""",
            """{"revision":6,"entries":["a",2,"b"]}""",
            "");
        await using var transport = Transport(new StubMaster(HttpStatusCode.OK, stream));
        var watcher = new RecordingWatcher();

        await using IAsyncDisposable watch = await transport.WatchAsync(s_subscription, watcher, CancellationToken.None);
        await VirtualTimeDriverWait(() => watcher.LostReason is not null);

        Assert.That(watcher.Snapshots.Select(s => s.Revision), Is.EqualTo(new long[] { 5, 6 }));
        Assert.That(watcher.Snapshots[1].Entries, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(transport.MalformedEntries, Is.EqualTo(3), "the garbage line, the stale snapshot and the number");
        Assert.That(watcher.LostReason, Is.InstanceOf<RegistryTransportException>());
    }

    [TestCase(HttpStatusCode.NotFound, "session-unknown", typeof(RegistrySessionLostException), true)]
    [TestCase(HttpStatusCode.ServiceUnavailable, "", typeof(RegistryTransportException), true)]
    [TestCase(HttpStatusCode.TooManyRequests, "", typeof(RegistryTransportException), true)]
    [TestCase(HttpStatusCode.RequestEntityTooLarge, "too-large", typeof(RegistryTransportException), false)]
    [TestCase(HttpStatusCode.InsufficientStorage, "full", typeof(RegistryTransportException), false)]
    [TestCase(HttpStatusCode.Forbidden, "", typeof(RegistryTransportException), false)]
    public async Task Register_Refused_IsClassifiedByCodeAndStatus(HttpStatusCode status, string code, Type expected, bool transient)
    {
        string body = code.Length == 0 ? "<html>\u001b[31mbusy</html>" : $$"""{"code":"{{code}}","message":"no"}""";
        await using var transport = Transport(new StubMaster(status, body));

        var error = Assert.ThrowsAsync(expected, async () => await transport.RegisterAsync(s_session, ServiceUrl.Parse("dubbo://10.0.0.1:1/greeter"), CancellationToken.None)) as RegistryTransportException;

        Assert.That(error!.IsTransient, Is.EqualTo(transient));
        Assert.That(error.Message, Does.Contain($"HTTP {(int)status}"));
        Assert.That(error.Message.Any(char.IsControl), Is.False, "the master's text is quoted with control characters escaped");
    }

    [Test]
    public async Task Call_ThatTheMasterNeverAnswers_FailsTransientlyAfterTheCallTimeout()
    {
        var time = new ManualTimeProvider();
        var hung = new StubMaster(HttpStatusCode.OK, "{}") { Hang = true };
        await using var transport = Transport(hung, time);

        ValueTask keepAlive = transport.KeepAliveAsync(s_session, CancellationToken.None);
        await VirtualTimeDriverWait(() => hung.Calls == 1);
        time.Advance(TimeSpan.FromSeconds(5));

        var error = Assert.ThrowsAsync<RegistryTransportException>(async () => await keepAlive);
        Assert.That(error!.IsTransient, Is.True);
        Assert.That(error.Message, Does.Contain("did not answer a heartbeat within 5 s"));
    }

    [Test]
    public void CreateTransport_WithoutAMaster_ThrowsNamingTheForm()
    {
        var factory = new MasterRegistryTransportFactory();

        var error = Assert.Throws<ArgumentException>(() => factory.CreateTransport(ServiceUrl.Parse("mymaster://")));

        Assert.That(error!.ParamName, Is.EqualTo("registryUrl"));
        Assert.That(error.Message, Does.Contain("names no master").And.Contain("mymaster://127.0.0.1:7070"));
    }

    private static MasterRegistryTransport Transport(StubMaster master, TimeProvider? time = null) =>
        (MasterRegistryTransport)new MasterRegistryTransportFactory(time) { CreateHandler = () => master }.CreateTransport(ServiceUrl.Parse("mymaster://127.0.0.1:7070"));

    private static Task VirtualTimeDriverWait(Func<bool> condition) => RegistryKit.Tests.Support.VirtualTimeDriver.WaitUntilAsync(condition);

    /// <summary>Answers every call with one status and body, or never.</summary>
    private sealed class StubMaster(HttpStatusCode status, string body) : HttpMessageHandler
    {
        private int _calls;

        public bool Hang { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }
    }
}
