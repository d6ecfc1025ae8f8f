using RegistryKit.Discovery;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Discovery;

[CancelAfter(20_000)]
public class ServerDiscoveryTests
{
    private static readonly string[] s_servers = ["a", "b", "c"];
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private FakeServers _fake = null!;
    private RecordingDiscoveryListener _listener = null!;
    private CollectingLogger<ServerDiscovery> _logger = null!;
    private DateTimeOffset _start;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _start = _time.GetUtcNow();
        _timer = new HashedWheelTimer(_time);
        _fake = new FakeServers(() => _time.GetUtcNow() - _start);
        _listener = new RecordingDiscoveryListener();
        _logger = new CollectingLogger<ServerDiscovery>();
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Defaults_ArePowerJobs()
    {
        var options = new ServerDiscoveryOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.AssertAttempts, Is.EqualTo(3));
            Assert.That(options.AssertRetryDelay, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
            Assert.That(options.CallTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(options.DiscoveryInterval, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(options.LostAfterFailedRounds, Is.EqualTo(3));
            Assert.That(options.LazyStart, Is.False);
            Assert.That(options.ShuffleServers, Is.True);
        });
    }

    [TestCase(nameof(ServerDiscoveryOptions.AssertAttempts))]
    [TestCase(nameof(ServerDiscoveryOptions.AssertRetryDelay))]
    [TestCase(nameof(ServerDiscoveryOptions.CallTimeout))]
    [TestCase(nameof(ServerDiscoveryOptions.LostAfterFailedRounds))]
    public void Options_OutOfRange_ThrowNamingTheSetting(string setting)
    {
        var options = setting switch
        {
            nameof(ServerDiscoveryOptions.AssertAttempts) => new ServerDiscoveryOptions { AssertAttempts = 0 },
            nameof(ServerDiscoveryOptions.AssertRetryDelay) => new ServerDiscoveryOptions { AssertRetryDelay = TimeSpan.FromMinutes(2) },
            nameof(ServerDiscoveryOptions.CallTimeout) => new ServerDiscoveryOptions { CallTimeout = TimeSpan.FromSeconds(10) },
            _ => new ServerDiscoveryOptions { LostAfterFailedRounds = 0 },
        };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain("ServerDiscoveryOptions." + setting).And.Contain("must"));
    }

    [Test]
    public void Constructor_NoServers_ThrowsNamingTheParameterAndTheFix()
    {
        var exception = Assert.Throws<ArgumentException>(() => new ServerDiscovery([" "], "app", _fake, _timer, _time));

        Assert.That(exception!.ParamName, Is.EqualTo("servers"));
        Assert.That(exception.Message, Does.Contain("at least one server address"));
    }

    [Test]
    public async Task Start_AdoptsTheServerThatConfirmsItself()
    {
        _fake.AssertAnswers["a"] = () => AppAssertion.Registered("42");
        _fake.AcquireAnswers["a"] = _ => "b";
        _fake.AcquireAnswers["b"] = _ => "b";
        await using ServerDiscovery discovery = Create();

        await discovery.StartAsync();

        Assert.Multiple(() =>
        {
            Assert.That(discovery.AppId, Is.EqualTo("42"));
            Assert.That(discovery.CurrentServer, Is.EqualTo("b"));
            Assert.That(_listener.Changes, Is.EqualTo(new[] { ((string?)null, "b") }));
            Assert.That(_fake.Calls.Select(c => c.Kind + ":" + c.Server), Is.EqualTo(new[] { "assert:a", "acquire:a", "acquire:b" }));
        });
    }

    [Test]
    public void Start_AppNotRegistered_IsTerminalWithAClearMessage()
    {
        _fake.AssertAnswers["a"] = () => AppAssertion.NotRegistered("no app named 'shop'");
        _fake.AssertAnswers["b"] = () => AppAssertion.Registered("42");
        ServerDiscovery discovery = Create();

        var exception = Assert.ThrowsAsync<AppNotRegisteredException>(() => discovery.StartAsync());

        Assert.Multiple(() =>
        {
            Assert.That(exception!.Message, Does.Contain("'shop'").And.Contain("not registered").And.Contain("Register the app"));
            Assert.That(_fake.Calls, Has.Count.EqualTo(1), "a terminal answer is neither retried nor asked elsewhere");
            Assert.That(_timer.PendingTimeouts, Is.Zero, "a failed start schedules no round");
        });
    }

    [Test]
    public async Task Start_FailingServer_IsAskedThreeTimes100MsApartThenTheNext()
    {
        _fake.AssertAnswers["b"] = () => AppAssertion.Registered("42");
        _fake.AcquireAnswers["b"] = _ => "b";
        await using ServerDiscovery discovery = Create();

        // Each try fails at once; the 100 ms pause is armed after it, so time moves only once the pause exists.
        Task start = discovery.StartAsync();
        await _time.AdvanceWhenNextTimerIsAsync(TimeSpan.FromMilliseconds(100));
        await _fake.WaitForCallsAsync(2);
        await _time.AdvanceWhenNextTimerIsAsync(TimeSpan.FromMilliseconds(100));
        await start;

        Assert.That(
            _fake.Calls.Where(c => c.Kind == "assert").Select(c => (c.Server, c.At.TotalMilliseconds)),
            Is.EqualTo(new[] { ("a", 0d), ("a", 100d), ("a", 200d), ("b", 200d) }));
        Assert.That(discovery.CurrentServer, Is.EqualTo("b"));
    }

    [Test]
    public async Task Start_HangingServer_EachTryEndsAtTheCallTimeout()
    {
        _fake.Hanging.Add("a");
        _fake.AssertAnswers["b"] = () => AppAssertion.Registered("42");
        _fake.AcquireAnswers["b"] = _ => "b";
        await using ServerDiscovery discovery = Create();
        TimeSpan callTimeout = TimeSpan.FromSeconds(5);

        // A call's timeout is armed before the call, so time moves only once the fake has the call in hand.
        Task start = discovery.StartAsync();
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            await _fake.WaitForCallsAsync(attempt);
            _time.Advance(callTimeout);
            if (attempt < 3)
            {
                await _time.AdvanceWhenNextTimerIsAsync(TimeSpan.FromMilliseconds(100));
            }
        }

        // Then b asserts the app, and the first round asks a (which hangs once more) before b.
        await _fake.WaitForCallsAsync(5);
        _time.Advance(callTimeout);
        await start;

        Assert.That(
            _fake.Calls.Select(c => (c.Kind, c.Server, c.At.TotalMilliseconds)),
            Is.EqualTo(new[]
            {
                ("assert", "a", 0d), ("assert", "a", 5_100d), ("assert", "a", 10_200d), ("assert", "b", 15_200d),
                ("acquire", "a", 15_200d), ("acquire", "b", 20_200d),
            }));
        await VirtualTimeDriver.WaitUntilAsync(() => _fake.Cancelled == 4);  // each hung call's own cancellation ends a moment later
        Assert.That(_fake.Cancelled, Is.EqualTo(4), "each hung call was cancelled when its timeout ran out: three asserts, then the first round's acquire");
        Assert.That(discovery.CurrentServer, Is.EqualTo("b"));
    }

    [Test]
    public void Start_AllServersDown_FailsStartUpWithTheFix_PowerJob204()
    {
        ServerDiscovery discovery = Create();

        var exception = Assert.ThrowsAsync<ServerUnavailableException>(() => RunUntilAsync(discovery.StartAsync()));

        Assert.Multiple(() =>
        {
            Assert.That(exception!.Message, Does.Contain("None of the 3 servers").And.Contain("LazyStart"));
            Assert.That(exception.InnerException, Is.InstanceOf<IOException>());
            Assert.That(_fake.Calls, Has.Count.EqualTo(9), "three tries on each of three servers");
            Assert.That(_timer.PendingTimeouts, Is.Zero);
        });
    }

    [Test]
    public async Task LazyStart_AllServersDown_StartsAndFindsTheServerInTheBackground_PowerJob613()
    {
        await using ServerDiscovery discovery = Create(new ServerDiscoveryOptions { ShuffleServers = false, LazyStart = true });
        await RunUntilAsync(discovery.StartAsync());
        Assert.That(discovery.CurrentServer, Is.Null);
        Assert.That(discovery.AppId, Is.Null);

        _fake.AssertAnswers["c"] = () => AppAssertion.Registered("42");
        _fake.AcquireAnswers["c"] = _ => "c";
        await RunUntilAsync(NextRoundAsync(discovery));

        Assert.Multiple(() =>
        {
            Assert.That(discovery.AppId, Is.EqualTo("42"));
            Assert.That(discovery.CurrentServer, Is.EqualTo("c"));
            Assert.That(_listener.Changes, Is.EqualTo(new[] { ((string?)null, "c") }));
        });
    }

    [Test]
    public async Task LazyStart_AppNotRegisteredLater_StopsAndTellsTheListener()
    {
        await using ServerDiscovery discovery = Create(new ServerDiscoveryOptions { ShuffleServers = false, LazyStart = true });
        await RunUntilAsync(discovery.StartAsync());

        _fake.AssertAnswers["a"] = () => AppAssertion.NotRegistered("unknown app");
        await RunUntilAsync(NextRoundAsync(discovery));

        Assert.That(_listener.NotRegistered, Is.EqualTo(new[] { ("a", (string?)"unknown app") }));
        Assert.That(_timer.PendingTimeouts, Is.Zero, "discovery stopped");
    }

    [Test]
    public void Servers_AreShuffledPerWorker_AndKeepTheirOrderWhenShufflingIsOff()
    {
        var firsts = new HashSet<string>();
        for (int seed = 0; seed < 50; seed++)
        {
            var discovery = new ServerDiscovery(s_servers, "app", _fake, _timer, _time, new ServerDiscoveryOptions(), null, null, new Random(seed));
            Assert.That(discovery.Servers, Is.EquivalentTo(s_servers));
            firsts.Add(discovery.Servers[0]);
        }

        Assert.That(firsts, Is.EquivalentTo(s_servers), "every server comes first for some worker");
        Assert.That(Create().Servers, Is.EqualTo(s_servers), "with shuffling off the configured order stays");
    }

    [Test]
    public async Task Rounds_RunEveryIntervalAtAFixedRate()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        for (int i = 0; i < 5; i++)
        {
            await NextRoundAsync(discovery);
        }

        Assert.That(
            _fake.Calls.Where(c => c.Kind == "acquire").Select(c => c.At.TotalSeconds),
            Is.EqualTo(new double[] { 0, 10, 20, 30, 40, 50 }));
    }

    [Test]
    public async Task Rounds_AskTheCurrentServerFirstThenTheOthersInOrder()
    {
        ServeFrom("b");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();
        _fake.Calls.Clear();

        _fake.AcquireAnswers.Remove("b");
        await NextRoundAsync(discovery);

        Assert.That(_fake.Calls.Select(c => c.Server), Is.EqualTo(new[] { "b", "a", "c" }));
        Assert.That(_fake.Calls.All(c => c.CurrentServer == "b"), Is.True, "each server is told which server the worker follows");
    }

    [Test]
    public async Task CachedServer_NamingAnother_IsReplacedOnlyOnceThatOneConfirms_PowerJob102()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        // a handed the app over to c: it names c, and c confirms.
        _fake.AcquireAnswers["a"] = _ => "c";
        _fake.AcquireAnswers["c"] = _ => "c";
        await NextRoundAsync(discovery);

        Assert.That(discovery.CurrentServer, Is.EqualTo("c"));
        Assert.That(_listener.Changes, Is.EqualTo(new[] { ((string?)null, "a"), ("a", "c") }));
    }

    [Test]
    public async Task CachedServer_NamingOneThatDoesNotConfirm_IsNotTrusted_PowerJob102()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        // Split brain: a says c owns the app, c says a does; b is down. Nobody confirms itself.
        _fake.AcquireAnswers["a"] = _ => "c";
        _fake.AcquireAnswers["c"] = _ => "a";
        _fake.AcquireAnswers.Remove("b");
        await NextRoundAsync(discovery);

        Assert.Multiple(() =>
        {
            Assert.That(discovery.ConsecutiveFailedRounds, Is.EqualTo(1), "a round where nobody confirms itself fails");
            Assert.That(_listener.Changes, Has.Count.EqualTo(1), "the worker did not switch to c");
            Assert.That(_fake.Calls.Count(c => c.Server == "c" && c.At == TimeSpan.FromSeconds(10)), Is.EqualTo(1), "each server is asked once a round");
        });
    }

    [Test]
    public async Task ServerLost_AfterThreeFailedRounds_ToldOnceThenFoundAgain()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        _fake.AcquireAnswers.Clear();
        await NextRoundAsync(discovery);
        await NextRoundAsync(discovery);
        Assert.That(_listener.Lost, Is.Empty, "two failed rounds are not a loss");
        Assert.That(discovery.CurrentServer, Is.EqualTo("a"));

        await NextRoundAsync(discovery);
        await NextRoundAsync(discovery);
        Assert.That(_listener.Lost, Is.EqualTo(new[] { ("a", 3) }), "lost once, at the third failed round");
        Assert.That(discovery.CurrentServer, Is.Null);

        ServeFrom("a");
        await NextRoundAsync(discovery);
        Assert.That(discovery.CurrentServer, Is.EqualTo("a"));
        Assert.That(discovery.ConsecutiveFailedRounds, Is.Zero);
        Assert.That(_listener.Changes[^1], Is.EqualTo(((string?)null, "a")));
    }

    [Test]
    public async Task FailedRounds_AreCountedPerInstance_NotPerProcess()
    {
        ServeFrom("a");
        var otherFake = new FakeServers(() => _time.GetUtcNow() - _start);
        otherFake.AssertAnswers["a"] = () => AppAssertion.Registered("7");
        otherFake.AcquireAnswers["a"] = _ => "a";
        var otherListener = new RecordingDiscoveryListener();
        await using ServerDiscovery first = Create();
        await using var second = new ServerDiscovery(s_servers, "other", otherFake, _timer, _time, new ServerDiscoveryOptions { ShuffleServers = false }, otherListener);
        await first.StartAsync();
        await second.StartAsync();

        // Two failed rounds each: four in the process, but neither worker has had three.
        _fake.AcquireAnswers.Clear();
        otherFake.AcquireAnswers.Clear();
        for (int i = 0; i < 2; i++)
        {
            _time.Advance(s_interval);
            await first.InFlight.WaitAsync(TestContext.CurrentContext.CancellationToken);
            await second.InFlight.WaitAsync(TestContext.CurrentContext.CancellationToken);
        }

        Assert.Multiple(() =>
        {
            Assert.That(first.ConsecutiveFailedRounds, Is.EqualTo(2));
            Assert.That(second.ConsecutiveFailedRounds, Is.EqualTo(2));
            Assert.That(_listener.Lost, Is.Empty);
            Assert.That(otherListener.Lost, Is.Empty);
        });
    }

    [TestCase("")]
    [TestCase("   ")]
    public async Task BlankAnswer_IsAFailedCallAndNeverAdopted(string answer)
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        _fake.AcquireAnswers["a"] = _ => answer;
        _fake.AcquireAnswers.Remove("b");
        await NextRoundAsync(discovery);

        Assert.That(discovery.ConsecutiveFailedRounds, Is.EqualTo(1));
        Assert.That(discovery.CurrentServer, Is.EqualTo("a"));
        Assert.That(_logger.Entries.Any(e => e.EventId.Id == 5109), Is.True, "the malformed answer is logged");
    }

    [Test]
    public async Task SlowRound_TheSlotThatComesMeanwhileIsSkippedAndCounted()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        // Every server hangs: a round asks three of them for 5 s each, longer than the 10 s interval. The round's
        // timeouts and the wheel's slots interleave, so time moves only once the next call (and its timeout) exists.
        _fake.Hanging.UnionWith(s_servers);
        int calls = _fake.Calls.Count;
        _time.Advance(s_interval);
        Task round = discovery.InFlight;
        for (int call = 1; call <= 3; call++)
        {
            await _fake.WaitForCallsAsync(calls + call);
            _time.Advance(TimeSpan.FromSeconds(5));
        }

        await round.WaitAsync(TestContext.CurrentContext.CancellationToken);
        Assert.That(discovery.SkippedRounds, Is.EqualTo(1), "the slot at 20 s came while the round ran until 25 s");
        Assert.That(_fake.Calls.Skip(calls).Select(c => (c.Server, c.At.TotalSeconds)), Is.EqualTo(new[] { ("a", 10d), ("b", 15d), ("c", 20d) }), "no second round ran alongside");
    }

    [Test]
    public async Task CallsThatIgnoreTheirToken_StillEndAtTheCallTimeout_AndTheServerIsLost()
    {
        ServeFrom("a");
        ServerDiscovery discovery = Create(new ServerDiscoveryOptions { ShuffleServers = false, DiscoveryInterval = TimeSpan.FromSeconds(30) });
        await discovery.StartAsync();

        // Every server now swallows its calls and ignores the token: each round must still end, fail and count. A
        // round of three 5 s timeouts fits between two slots 30 s apart, so the timers never interleave.
        _fake.IgnoringToken.UnionWith(s_servers);
        for (int round = 1; round <= 3; round++)
        {
            int calls = _fake.Calls.Count;
            _time.Advance(_time.GetTimeToNextTimer()!.Value);
            for (int call = 1; call <= 3; call++)
            {
                await _fake.WaitForCallsAsync(calls + call);
                await _time.AdvanceWhenNextTimerIsAsync(TimeSpan.FromSeconds(5));
            }

            await discovery.InFlight.WaitAsync(TestContext.CurrentContext.CancellationToken);
        }

        Assert.That(_listener.Lost, Is.EqualTo(new[] { ("a", 3) }));
        Assert.That(discovery.SkippedRounds, Is.Zero);
        await discovery.DisposeAsync().AsTask().WaitAsync(TestContext.CurrentContext.CancellationToken);
    }

    [Test]
    public async Task AnswerWithControlCharacters_IsAFailedCall_AndForgesNoLogLine()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        _fake.AcquireAnswers["a"] = _ => "evil\r\nFAKE LOG LINE level=crit";
        _fake.AcquireAnswers.Remove("b");
        await NextRoundAsync(discovery);

        Assert.That(discovery.ConsecutiveFailedRounds, Is.EqualTo(1));
        Assert.That(discovery.CurrentServer, Is.EqualTo("a"));
        Assert.That(_logger.Entries.Select(e => e.Message), Has.None.Contains("\n"));
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5109).Message, Does.Contain("evil\\u000D\\u000AFAKE"));
    }

    [Test]
    public async Task UnlistedServerThatConfirmsItself_IsFollowedWithAWarning()
    {
        ServeFrom("a");
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        _fake.AcquireAnswers["a"] = _ => "d";
        _fake.AcquireAnswers["d"] = _ => "d";
        await NextRoundAsync(discovery);

        Assert.That(discovery.CurrentServer, Is.EqualTo("d"));
        Assert.That(_logger.Entries.Any(e => e.EventId.Id == 5114), Is.True);
    }

    [Test]
    public async Task OptionsChangedAfterStart_TakeNoEffect()
    {
        ServeFrom("a");
        var options = new ServerDiscoveryOptions { ShuffleServers = false };
        await using var discovery = new ServerDiscovery(s_servers, "shop", _fake, _timer, _time, options, _listener, _logger);
        await discovery.StartAsync();

        options.DiscoveryInterval = TimeSpan.Zero;
        options.LostAfterFailedRounds = 1;
        _fake.AcquireAnswers.Clear();
        await NextRoundAsync(discovery);

        Assert.That(discovery.ConsecutiveFailedRounds, Is.EqualTo(1), "the round ran on the original 10 s schedule");
        Assert.That(_listener.Lost, Is.Empty, "the original threshold of 3 still applies");
        Assert.That(_timer.PendingTimeouts, Is.EqualTo(1), "the next round is scheduled");
    }

    [Test]
    public async Task ThrowingListener_DoesNotStopDiscovery()
    {
        ServeFrom("a");
        _listener.Throw = true;
        await using ServerDiscovery discovery = Create();
        await discovery.StartAsync();

        _fake.AcquireAnswers["a"] = _ => "b";
        _fake.AcquireAnswers["b"] = _ => "b";
        await NextRoundAsync(discovery);

        Assert.That(discovery.CurrentServer, Is.EqualTo("b"));
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5113), Is.EqualTo(2));
    }

    [Test]
    public async Task Dispose_CancelsTheRoundInFlightAndNothingRunsAfter()
    {
        ServeFrom("a");
        ServerDiscovery discovery = Create();
        await discovery.StartAsync();
        _fake.Hanging.Add("a");
        _time.Advance(s_interval);
        await _fake.WaitForCallsAsync(3);

        await discovery.DisposeAsync();
        int calls = _fake.Calls.Count;
        _time.Advance(TimeSpan.FromMinutes(5));
        await VirtualTimeDriver.WaitUntilAsync(() => _fake.Cancelled == 1);

        Assert.Multiple(() =>
        {
            Assert.That(_fake.Cancelled, Is.EqualTo(1), "the hung call was cancelled by dispose");
            Assert.That(_fake.Calls, Has.Count.EqualTo(calls));
            Assert.That(_timer.PendingTimeouts, Is.Zero);
            Assert.That(_listener.Changes, Has.Count.EqualTo(1));
            Assert.That(_listener.Lost, Is.Empty);
        });
    }

    [Test]
    public async Task Dispose_FromTheListenerCallback_DoesNotDeadlock()
    {
        ServeFrom("a");
        ServerDiscovery discovery = Create();
        _listener.OnChanged = () => discovery.DisposeAsync().AsTask().Wait();

        await discovery.StartAsync();

        Assert.That(_timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Start_Twice_Throws()
    {
        ServeFrom("a");
        ServerDiscovery discovery = Create();
        _ = discovery.StartAsync();

        Assert.Throws<InvalidOperationException>(() => discovery.StartAsync());
    }

    [Test]
    public async Task Credentials_InServerAddresses_NeverReachLogsOrExceptions()
    {
        const string Canary = "s3cret-canary";
        string[] servers = [$"http://ops:{Canary}@a:7700", $"http://b:7700/?token={Canary}"];
        var discovery = new ServerDiscovery(servers, "app", _fake, _timer, _time, new ServerDiscoveryOptions { ShuffleServers = false }, _listener, _logger);

        var exception = Assert.ThrowsAsync<ServerUnavailableException>(() => RunUntilAsync(discovery.StartAsync()));

        Assert.That(exception!.Message, Does.Not.Contain(Canary).And.Contain("http://***@a:7700").And.Contain("token=***"));
        Assert.That(_logger.Entries, Is.Not.Empty);
        Assert.That(_logger.Entries.Select(e => e.Message), Has.None.Contains(Canary));
        await discovery.DisposeAsync();
    }

    private ServerDiscovery Create(ServerDiscoveryOptions? options = null) =>
        new(s_servers, "shop", _fake, _timer, _time, options ?? new ServerDiscoveryOptions { ShuffleServers = false }, _listener, _logger);

    /// <summary>Makes <paramref name="server"/> assert the app and name itself; the other servers are down.</summary>
    private void ServeFrom(string server)
    {
        _fake.AssertAnswers.Clear();
        _fake.AcquireAnswers.Clear();
        _fake.AssertAnswers[server] = () => AppAssertion.Registered("42");
        _fake.AcquireAnswers[server] = _ => server;
        foreach (string other in s_servers.Where(s => s != server))
        {
            _fake.AssertAnswers[other] = () => AppAssertion.Registered("42");
        }
    }

    /// <summary>Moves time to the next round slot and waits for the round it starts.</summary>
    private async Task NextRoundAsync(ServerDiscovery discovery)
    {
        _time.Advance(s_interval);
        await discovery.InFlight.WaitAsync(TestContext.CurrentContext.CancellationToken);
    }

    /// <summary>Drives virtual time until the task is done; no step is longer than a call timeout, so the round timer is left alone.</summary>
    private Task RunUntilAsync(Task task) => _time.DriveAsync(task, TimeSpan.FromSeconds(5));

    private sealed class FakeServers(Func<TimeSpan> clock) : IServerDiscoveryClient
    {
        private readonly Lock _lock = new();
        private readonly CallCounter _counter = new();
        private int _cancelled;

        public Dictionary<string, Func<AppAssertion>> AssertAnswers { get; } = [];

        public Dictionary<string, Func<string?, string>> AcquireAnswers { get; } = [];

        public HashSet<string> Hanging { get; } = [];

        /// <summary>Servers whose calls never answer and ignore their token, as a broken client might.</summary>
        public HashSet<string> IgnoringToken { get; } = [];

        public List<(string Kind, string Server, string? CurrentServer, TimeSpan At)> Calls { get; } = [];

        public int Cancelled => Volatile.Read(ref _cancelled);

        public Task WaitForCallsAsync(int count) => _counter.WaitForAsync(count);

        public ValueTask<AppAssertion> AssertAppAsync(string server, string appName, CancellationToken cancellationToken)
        {
            Record("assert", server, null);
            return Hanging.Contains(server) ? HangAsync<AppAssertion>(cancellationToken)
                : AssertAnswers.TryGetValue(server, out Func<AppAssertion>? answer) ? ValueTask.FromResult(answer())
                : ValueTask.FromException<AppAssertion>(new IOException($"{server} is down"));
        }

        public ValueTask<string> AcquireServerAsync(string server, string appId, string? currentServer, CancellationToken cancellationToken)
        {
            Record("acquire", server, currentServer);
            return IgnoringToken.Contains(server) ? new ValueTask<string>(new TaskCompletionSource<string>().Task)
                : Hanging.Contains(server) ? HangAsync<string>(cancellationToken)
                : AcquireAnswers.TryGetValue(server, out Func<string?, string>? answer) ? ValueTask.FromResult(answer(currentServer))
                : ValueTask.FromException<string>(new IOException($"{server} is down"));
        }

        private void Record(string kind, string server, string? current)
        {
            lock (_lock)
            {
                Calls.Add((kind, server, current, clock()));
            }

            _counter.Increment();
        }

        private async ValueTask<T> HangAsync<T>(CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancelled);
                throw;
            }

            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class RecordingDiscoveryListener : IServerDiscoveryListener
    {
        public List<(string?, string)> Changes { get; } = [];

        public List<(string, int)> Lost { get; } = [];

        public List<(string, string?)> NotRegistered { get; } = [];

        public bool Throw { get; set; }

        public Action? OnChanged { get; set; }

        public void OnServerChanged(string? previousServer, string currentServer)
        {
            Changes.Add((previousServer, currentServer));
            OnChanged?.Invoke();
            ThrowIfAsked();
        }

        public void OnServerLost(string lostServer, int failedRounds)
        {
            Lost.Add((lostServer, failedRounds));
            ThrowIfAsked();
        }

        public void OnAppNotRegistered(string server, string? reason) => NotRegistered.Add((server, reason));

        private void ThrowIfAsked()
        {
            if (Throw)
            {
                throw new InvalidOperationException("listener bug");
            }
        }
    }
}
