using RegistryKit.Masters;
using RegistryKit.Reporting;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Masters;

[CancelAfter(20_000)]
public partial class MultiMasterRegistrationTests
{
    private static readonly string[] s_masters = ["m1", "m2", "m3"];

    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private FakeMasters _masters = null!;
    private RecordingMasterListener _listener = null!;
    private CollectingLogger<MultiMasterRegistration> _logger = null!;
    private DateTimeOffset _start;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _start = _time.GetUtcNow();
        _timer = new HashedWheelTimer(_time);
        _masters = new FakeMasters(() => _time.GetUtcNow() - _start);
        _listener = new RecordingMasterListener();
        _logger = new CollectingLogger<MultiMasterRegistration>();
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Defaults_AreSparks()
    {
        var options = new MultiMasterOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.WorkerTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(options.InitialRetryInterval, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(options.ProlongedRetryInterval, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(options.InitialRetries, Is.EqualTo(6));
            Assert.That(options.TotalRetries, Is.EqualTo(16));
            Assert.That(options.FuzzFactor, Is.Null);
            Assert.That(options.MaxParallelRegistrations, Is.EqualTo(8));
            Assert.That(options.HeartbeatFailureThreshold, Is.EqualTo(3));
            Assert.That(MultiMasterDefaults.ProcessFuzzFactor, Is.InRange(0.5, 1.5));
        });
    }

    [TestCase(nameof(MultiMasterOptions.WorkerTimeout), "at least one second")]
    [TestCase(nameof(MultiMasterOptions.InitialRetryInterval), "at least one second")]
    [TestCase(nameof(MultiMasterOptions.ProlongedRetryInterval), "not be below InitialRetryInterval")]
    [TestCase(nameof(MultiMasterOptions.TotalRetries), "positive")]
    [TestCase(nameof(MultiMasterOptions.InitialRetries), "from 0 to TotalRetries")]
    [TestCase(nameof(MultiMasterOptions.FuzzFactor), "below 1.5")]
    [TestCase(nameof(MultiMasterOptions.MaxParallelRegistrations), "positive")]
    [TestCase(nameof(MultiMasterOptions.HeartbeatFailureThreshold), "positive")]
    public void Options_OutOfRange_ThrowNamingTheSettingAndTheRule(string setting, string rule)
    {
        var options = setting switch
        {
            nameof(MultiMasterOptions.WorkerTimeout) => new MultiMasterOptions { WorkerTimeout = TimeSpan.FromTicks(3) },
            nameof(MultiMasterOptions.InitialRetryInterval) => new MultiMasterOptions { InitialRetryInterval = TimeSpan.FromMilliseconds(500) },
            nameof(MultiMasterOptions.ProlongedRetryInterval) => new MultiMasterOptions { ProlongedRetryInterval = TimeSpan.FromSeconds(1) },
            nameof(MultiMasterOptions.TotalRetries) => new MultiMasterOptions { TotalRetries = 0, InitialRetries = 0 },
            nameof(MultiMasterOptions.InitialRetries) => new MultiMasterOptions { InitialRetries = 17 },
            nameof(MultiMasterOptions.FuzzFactor) => new MultiMasterOptions { FuzzFactor = 1.5 },
            nameof(MultiMasterOptions.MaxParallelRegistrations) => new MultiMasterOptions { MaxParallelRegistrations = 0 },
            _ => new MultiMasterOptions { HeartbeatFailureThreshold = 0 },
        };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain("MultiMasterOptions." + setting).And.Contain(rule));
    }

    [Test]
    public void WorkerId_DefaultPattern_IsSparks()
    {
        Assert.That(WorkerId.Create(_time, "10.0.0.5", 7078), Is.EqualTo("worker-20000101000000-10.0.0.5-7078"));
        Assert.That(WorkerId.Create(_time, "h", 1, "{host}:{port}@{timestamp}"), Is.EqualTo("h:1@20000101000000"));
    }

    [TestCase(-1)]
    [TestCase(65536)]
    public void WorkerId_PortOutOfRange_IsRejectedNamingIt(int port)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => WorkerId.Create(_time, "h", port));

        Assert.That(exception!.ParamName, Is.EqualTo("port"));
        Assert.That(exception.Message, Does.Contain("0 to 65535"));
    }

    [TestCase("bad host", "host")]
    [TestCase("h\tx", "host")]
    public void WorkerId_Whitespace_IsRejectedWithAClearMessage(string host, string parameter)
    {
        var exception = Assert.Throws<ArgumentException>(() => WorkerId.Create(_time, host, 1));

        Assert.That(exception!.ParamName, Is.EqualTo(parameter));
        Assert.That(exception.Message, Does.Contain("whitespace"));
    }

    [Test]
    public async Task Start_AsksEveryMasterAtOnce_TheActiveOneWins_StandbyIgnored()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Standby;
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();

        registration.Start();

        // These fakes answer at once, so the round's calls go out one after another: once m2 answers as active, the
        // effort is over and m3 is not asked (a real round has every call in flight and cancels the rest).
        Assert.That(_masters.RegisterCalls.Select(c => c.Master), Is.EqualTo(new[] { "m1", "m2" }));
        Assert.That(registration.ActiveMaster, Is.EqualTo("m2"));
        Assert.That(_listener.Registered, Is.EqualTo(new[] { ("m2", false) }), "the state report hook runs after registering");
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.That(_masters.RegisterCalls, Has.Count.EqualTo(2), "no retries once registered");
    }

    [Test]
    public async Task RetrySchedule_SixEveryTenSecondsThenEveryMinute_GivesUpAfterSixteen()
    {
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0 });

        registration.Start();
        _time.Advance(TimeSpan.FromMinutes(30));

        double[] rounds = [.. _masters.RegisterCalls.Where(c => c.Master == "m1").Select(c => c.At.TotalSeconds)];
        Assert.That(rounds, Is.EqualTo(new double[] { 0, 10, 20, 30, 40, 50, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660 }));
        Assert.That(_listener.GaveUp, Is.EqualTo(new[] { 16 }), "told once, after 16 retries; the process is not exited");
    }

    [Test]
    public void RetryIntervals_AreFuzzedAndRounded()
    {
        var registration = Create(new MultiMasterOptions { FuzzFactor = 0.73 });

        Assert.That(registration.InitialRetryInterval, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(registration.ProlongedRetryInterval, Is.EqualTo(TimeSpan.FromSeconds(44)));
        Assert.That(registration.HeartbeatInterval, Is.EqualTo(TimeSpan.FromSeconds(15)));
    }

    [Test]
    public async Task DuplicateRegistration_IsASuccessWithAWarning_Spark23191()
    {
        _masters.Register["m2"] = () => MasterRegistrationResponse.RegisteredDuplicate;
        await using MultiMasterRegistration registration = Create();

        registration.Start();

        Assert.That(registration.IsRegistered, Is.True);
        Assert.That(_listener.Registered, Is.EqualTo(new[] { ("m2", true) }));
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5001), Is.EqualTo(1));
        Assert.That(_listener.Refused, Is.Empty);
    }

    [Test]
    public async Task RefusalBeforeTheFirstSuccess_IsTerminal()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Refused;
        await using MultiMasterRegistration registration = Create();

        registration.Start();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(_listener.Refused, Is.EqualTo(new[] { "m1" }));
        Assert.That(_masters.RegisterCalls, Has.Count.EqualTo(1), "the refusal ends the effort: the rest of the round is dropped and nothing is retried");
    }

    [Test]
    public async Task RefusalAfterAFirstSuccess_IsIgnored()
    {
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat["m2"] = () => MasterHeartbeatResponse.Reconnect;
        await using MultiMasterRegistration registration = Create();
        registration.Start();
        _masters.Register["m2"] = () => MasterRegistrationResponse.Refused;

        _time.Advance(TimeSpan.FromSeconds(15.01));
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(_listener.Refused, Is.Empty);
        Assert.That(registration.ActiveMaster, Is.EqualTo("m1"));
    }

    [Test]
    public async Task Heartbeats_GoToTheActiveMasterEveryQuarterTimeout_FromOneTimer_Spark54312()
    {
        // Every heartbeat is answered "reconnect", so the worker re-registers again and again; Spark added a
        // heartbeat timer on each re-registration.
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat["m2"] = () => MasterHeartbeatResponse.Reconnect;
        await using MultiMasterRegistration registration = Create();
        registration.Start();

        _time.Advance(TimeSpan.FromSeconds(150.01));

        Assert.That(_masters.HeartbeatCalls.Select(c => Math.Round(c.At.TotalSeconds)), Is.EqualTo(new double[] { 15, 30, 45, 60, 75, 90, 105, 120, 135, 150 }));
        Assert.That(_listener.Registered, Has.Count.EqualTo(11), "it did re-register every time");
    }

    [Test]
    public async Task Reconnect_RegistersAgainWithTheLastActiveMasterFirst_Spark4592()
    {
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat["m2"] = () => MasterHeartbeatResponse.Reconnect;
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0 });
        registration.Start();
        _masters.Register["m2"] = () => MasterRegistrationResponse.Standby;
        int before = _masters.RegisterCalls.Count;

        _time.Advance(TimeSpan.FromSeconds(15.01));
        Assert.That(_masters.RegisterCalls.Skip(before).Select(c => c.Master), Is.EqualTo(new[] { "m2" }), "first with the last active master alone");

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(_masters.RegisterCalls.Skip(before + 1).Select(c => c.Master), Is.EquivalentTo(s_masters), "then with all");
    }

    [Test]
    public async Task ActiveMasterDies_TheWorkerFollowsTheNewActiveWithinOneRetryInterval()
    {
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        _masters.Register["m1"] = () => MasterRegistrationResponse.Standby;
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0 });
        registration.Start();

        // m2 dies; m1 takes over.
        _masters.Register["m2"] = () => throw new IOException("connection refused");
        _masters.Heartbeat["m2"] = () => throw new IOException("connection refused");
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _time.Advance(TimeSpan.FromSeconds(45.01));
        Assert.That(registration.IsRegistered, Is.False, "three failed heartbeats lose the master");
        TimeSpan lost = _time.GetUtcNow() - _start;

        while (!registration.IsRegistered)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.That(_time.GetUtcNow() - _start - lost, Is.LessThanOrEqualTo(registration.InitialRetryInterval), "followed within one retry interval");
        }

        Assert.That(registration.ActiveMaster, Is.EqualTo("m1"));
    }

    [Test]
    public async Task MasterChanged_RegistersWithTheNewMasterFirst()
    {
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();
        registration.Start();
        _masters.Register["m3"] = () => MasterRegistrationResponse.Registered;
        int before = _masters.RegisterCalls.Count;

        registration.MasterChanged("m3");

        Assert.That(_masters.RegisterCalls.Skip(before).Select(c => c.Master), Is.EqualTo(new[] { "m3" }));
        Assert.That(registration.ActiveMaster, Is.EqualTo("m3"));
    }

    [Test]
    public async Task Registration_AsksAtMostTheConfiguredNumberOfMastersAtOnce()
    {
        var gate = new TaskCompletionSource<MasterRegistrationResponse>();
        _masters.Gate = gate;
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { MaxParallelRegistrations = 2 }, ["a", "b", "c", "d", "e"]);

        registration.Start();

        Assert.That(_masters.RegisterCalls, Has.Count.EqualTo(2));
        gate.SetResult(MasterRegistrationResponse.Standby);

        // The freed slots go to the waiting masters (a semaphore resumes its waiters on the thread pool).
        await _masters.WaitForRegisterCallsAsync(5);
        Assert.That(_masters.MaxInFlight, Is.LessThanOrEqualTo(2));
    }

    private MultiMasterRegistration Create(MultiMasterOptions? options = null, string[]? masters = null) =>
        new(masters ?? s_masters, "worker-1", _masters, _listener, _timer, _time, options ?? new MultiMasterOptions { FuzzFactor = 1.0 }, _logger);

    private sealed class FakeMasters(Func<TimeSpan> clock) : IMasterClient
    {
        public Dictionary<string, Func<MasterRegistrationResponse>> Register { get; } = [];

        /// <summary>Answers that may stay pending (checked before <see cref="Register"/>).</summary>
        public Dictionary<string, Func<CancellationToken, ValueTask<MasterRegistrationResponse>>> RegisterLater { get; } = [];

        /// <summary>Heartbeat answers that may stay pending or fail (checked before <see cref="Heartbeat"/>).</summary>
        public Dictionary<string, Func<CancellationToken, ValueTask<MasterHeartbeatResponse>>> HeartbeatLater { get; } = [];

        /// <summary>Runs inside every call, so a test can look at the caller's state.</summary>
        public Action? OnCall { get; set; }

        public int Cancelled => Volatile.Read(ref _cancelled);

        private int _cancelled;

        /// <summary>A call that never answers until its token is cancelled; the cancellation is counted.</summary>
        public async ValueTask<T> HangAsync<T>(CancellationToken cancellationToken)
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

        public Dictionary<string, Func<MasterHeartbeatResponse>> Heartbeat { get; } = [];

        public List<(string Master, TimeSpan At)> RegisterCalls { get; } = [];

        public List<(string Master, TimeSpan At)> HeartbeatCalls { get; } = [];

        private readonly Lock _lock = new();
        private readonly CallCounter _registerCalls = new();
        private int _inFlight;

        public TaskCompletionSource<MasterRegistrationResponse>? Gate { get; set; }

        public int MaxInFlight { get; private set; }

        public Task WaitForRegisterCallsAsync(int count) => _registerCalls.WaitForAsync(count);

        public ValueTask<MasterRegistrationResponse> RegisterAsync(string masterAddress, string workerId, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                RegisterCalls.Add((masterAddress, clock()));
            }

            _registerCalls.Increment();

            OnCall?.Invoke();
            if (RegisterLater.TryGetValue(masterAddress, out Func<CancellationToken, ValueTask<MasterRegistrationResponse>>? later))
            {
                return later(cancellationToken);
            }

            if (Gate is not null)
            {
                return GatedAsync(Gate.Task);
            }

            return Register.TryGetValue(masterAddress, out Func<MasterRegistrationResponse>? answer)
                ? ValueTask.FromResult(answer())
                : ValueTask.FromException<MasterRegistrationResponse>(new IOException($"{masterAddress} is down"));
        }

        private async ValueTask<MasterRegistrationResponse> GatedAsync(Task<MasterRegistrationResponse> gate)
        {
            lock (_lock)
            {
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
            }

            try
            {
                return await gate;
            }
            finally
            {
                lock (_lock)
                {
                    _inFlight--;
                }
            }
        }

        public List<HealthReport?> Reports { get; } = [];

        public ValueTask<MasterHeartbeatResponse> HeartbeatAsync(string masterAddress, string workerId, HealthReport? report, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                HeartbeatCalls.Add((masterAddress, clock()));
                Reports.Add(report);
            }

            OnCall?.Invoke();
            if (HeartbeatLater.TryGetValue(masterAddress, out Func<CancellationToken, ValueTask<MasterHeartbeatResponse>>? later))
            {
                return later(cancellationToken);
            }

            return Heartbeat.TryGetValue(masterAddress, out Func<MasterHeartbeatResponse>? answer)
                ? ValueTask.FromResult(answer())
                : ValueTask.FromResult(MasterHeartbeatResponse.Ok);
        }
    }

    private sealed class RecordingMasterListener : IMultiMasterListener
    {
        public List<(string, bool)> Registered { get; } = [];

        public List<string> Refused { get; } = [];

        public List<int> GaveUp { get; } = [];

        /// <summary>Replaces the state report; gets the registration's token.</summary>
        public Func<CancellationToken, ValueTask>? Report { get; set; }

        /// <summary>Runs inside every callback, so a test can look at the caller's state.</summary>
        public Action? OnCallback { get; set; }

        public ValueTask OnRegisteredAsync(string masterAddress, bool duplicate, CancellationToken cancellationToken)
        {
            Registered.Add((masterAddress, duplicate));
            OnCallback?.Invoke();
            return Report?.Invoke(cancellationToken) ?? ValueTask.CompletedTask;
        }

        public void OnRefused(string masterAddress)
        {
            Refused.Add(masterAddress);
            OnCallback?.Invoke();
        }

        public void OnGaveUp(int attempts)
        {
            GaveUp.Add(attempts);
            OnCallback?.Invoke();
        }
    }
}
