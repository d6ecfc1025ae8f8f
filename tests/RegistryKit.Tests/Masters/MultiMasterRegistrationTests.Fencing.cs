using RegistryKit.Masters;
using RegistryKit.Reporting;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Masters;

/// <summary>Late answers, hung calls, the lock, the lifetime and the logs: the defects a review of the first version found.</summary>
public partial class MultiMasterRegistrationTests
{
    [Test]
    public async Task StaleAnswerFromASupersededEffort_IsIgnored()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();
        registration.Start();

        // m1 asks for a reconnect, and the worker asks m1 again; that answer is slow.
        var late = new TaskCompletionSource<MasterRegistrationResponse>();
        _masters.RegisterLater["m1"] = _ => new ValueTask<MasterRegistrationResponse>(late.Task);
        _masters.Heartbeat["m1"] = () => MasterHeartbeatResponse.Reconnect;
        _time.Advance(TimeSpan.FromSeconds(15));

        // Meanwhile m2 announces it is the active master; then the old effort's answer arrives.
        var fresh = new TaskCompletionSource<MasterRegistrationResponse>();
        _masters.RegisterLater["m2"] = _ => new ValueTask<MasterRegistrationResponse>(fresh.Task);
        _masters.Heartbeat.Clear();
        registration.MasterChanged("m2");
        late.SetResult(MasterRegistrationResponse.Registered);
        fresh.SetResult(MasterRegistrationResponse.Registered);
        await VirtualTimeDriver.WaitUntilAsync(() => registration.IsRegistered);

        // MasterChanged cancelled the superseded effort's calls, so m1's late "registered" is dropped (and, should it
        // already be running when the effort changes, fenced off by its effort number).
        Assert.That(registration.ActiveMaster, Is.EqualTo("m2"));
        Assert.That(_listener.Registered, Is.EqualTo(new[] { ("m1", false), ("m2", false) }), "m1's late answer registered nothing");
    }

    [Test]
    public async Task HungRegistrationCall_IsCancelledAtTheNextRetry_AndARecoveredMasterIsStillAsked()
    {
        // m1 blackholes every call. Calls that were never cancelled would pile up, one a round, until they held all
        // eight slots, and no master would be asked again.
        _masters.RegisterLater["m1"] = _masters.HangAsync<MasterRegistrationResponse>;
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0 }, ["m1", "m2"]);
        registration.Start();

        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(200), TimeSpan.FromSeconds(1));
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await _time.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));

        await VirtualTimeDriver.WaitUntilAsync(() => registration.IsRegistered);
        Assert.That(registration.ActiveMaster, Is.EqualTo("m2"));
        Assert.That(_masters.Cancelled, Is.GreaterThanOrEqualTo(6), "each hung call ended at the next retry");
        Assert.That(_logger.Entries.Any(e => e.EventId.Id == 5011), Is.True);
    }

    [Test]
    public async Task HungHeartbeats_TimeOutAndLoseTheMaster()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create(masters: ["m1"]);
        registration.Start();
        _masters.HeartbeatLater["m1"] = _masters.HangAsync<MasterHeartbeatResponse>;
        _masters.Register.Clear();

        // Heartbeats at 15, 30 and 45 s each go unanswered for their 15 s: the third failure, at 60 s, loses the master.
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(1));
        Assert.That(registration.IsRegistered, Is.True, "two failures are below the threshold");
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));

        // The timed-out calls end on the thread pool, so their log lines may come a moment after the step.
        await VirtualTimeDriver.WaitUntilAsync(() => _logger.Entries.Count(e => e.EventId.Id == 5013) == 3);
        Assert.That(registration.IsRegistered, Is.False);
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5009), Is.EqualTo(1));
    }

    [Test]
    public async Task LateHeartbeatFailuresFromThePreviousMaster_DoNotCountAgainstTheNewOne()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();
        registration.Start();
        var hung = new List<TaskCompletionSource<MasterHeartbeatResponse>>();
        _masters.HeartbeatLater["m1"] = _ =>
        {
            var answer = new TaskCompletionSource<MasterHeartbeatResponse>();
            hung.Add(answer);
            return new ValueTask<MasterHeartbeatResponse>(answer.Task);
        };
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(hung, Has.Count.EqualTo(2), "two heartbeats to m1 hang");
        registration.MasterChanged("m2");

        foreach (TaskCompletionSource<MasterHeartbeatResponse> answer in hung)
        {
            answer.SetException(new IOException("m1 is gone"));
        }

        _masters.HeartbeatLater["m2"] = _ => ValueTask.FromException<MasterHeartbeatResponse>(new IOException("a blip"));
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.That(registration.ActiveMaster, Is.EqualTo("m2"), "one failure of m2 is below the threshold of 3; m1's two late failures do not count");
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5009), Is.EqualTo(1), "only the MasterChanged re-registration");
    }

    [TestCase(1.0, 0.5, 1.0)]
    [TestCase(5.0, 0.5, 3.0)]
    [TestCase(2.5, 1.0, 3.0)]
    public void FuzzedIntervals_RoundHalvesUpAndNeverToZero(double seconds, double fuzz, double expected)
    {
        MultiMasterRegistration registration = Create(new MultiMasterOptions
        {
            InitialRetryInterval = TimeSpan.FromSeconds(seconds),
            ProlongedRetryInterval = TimeSpan.FromSeconds(seconds),
            FuzzFactor = fuzz,
        });

        Assert.That(registration.InitialRetryInterval, Is.EqualTo(TimeSpan.FromSeconds(expected)));
    }

    [Test]
    public async Task ClientAndListener_AreNeverCalledUnderTheLock()
    {
        MultiMasterRegistration? registration = null;
        bool heldSomewhere = false;
        _masters.OnCall = () => heldSomewhere |= registration!.IsLockHeldByCurrentThread;
        _listener.OnCallback = () => heldSomewhere |= registration!.IsLockHeldByCurrentThread;
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat["m1"] = () => MasterHeartbeatResponse.Reconnect;
        registration = Create(new MultiMasterOptions { FuzzFactor = 1.0, TotalRetries = 1, InitialRetries = 1 });

        registration.Start();
        _masters.Register.Clear();
        _time.Advance(TimeSpan.FromMinutes(2));
        await registration.DisposeAsync();

        Assert.That(_listener.Registered, Is.Not.Empty);
        Assert.That(_listener.GaveUp, Is.Not.Empty);
        Assert.That(_masters.HeartbeatCalls, Is.Not.Empty);
        Assert.That(heldSomewhere, Is.False);
    }

    [Test]
    public async Task Dispose_CancelsTheStateReport_AndAbandonsOneThatIgnoresIt()
    {
        var reportCancelled = new TaskCompletionSource();
        var never = new TaskCompletionSource();
        _listener.Report = async token =>
        {
            await using (token.Register(() => reportCancelled.TrySetResult()))
            {
                await never.Task;
            }
        };
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        MultiMasterRegistration registration = Create();
        registration.Start();

        await registration.DisposeAsync().AsTask().WaitAsync(TestContext.CurrentContext.CancellationToken);

        Assert.That(reportCancelled.Task.IsCompleted, Is.True, "the report's token was cancelled");
        Assert.That(never.Task.IsCompleted, Is.False, "dispose returned although the report ignores its token");
    }

    [Test]
    public async Task RegistrationCallsThatIgnoreTheirToken_StillFreeTheirSlotAtTheNextRetry()
    {
        // m1 never answers and ignores its token; with two slots, calls that kept their slot would lock m2 out for good.
        _masters.RegisterLater["m1"] = _ => new ValueTask<MasterRegistrationResponse>(new TaskCompletionSource<MasterRegistrationResponse>().Task);
        MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0, MaxParallelRegistrations = 2 }, ["m1", "m2"]);
        registration.Start();
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));

        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));

        await VirtualTimeDriver.WaitUntilAsync(() => registration.IsRegistered);
        Assert.That(registration.ActiveMaster, Is.EqualTo("m2"));
        await registration.DisposeAsync().AsTask().WaitAsync(TestContext.CurrentContext.CancellationToken);
    }

    [Test]
    public async Task HeartbeatsThatIgnoreTheirToken_StillCountAsFailedAndLoseTheMaster()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        MultiMasterRegistration registration = Create(masters: ["m1"]);
        registration.Start();
        _masters.HeartbeatLater["m1"] = _ => new ValueTask<MasterHeartbeatResponse>(new TaskCompletionSource<MasterHeartbeatResponse>().Task);
        _masters.Register.Clear();

        await _time.AdvanceInStepsAsync(TimeSpan.FromSeconds(61), TimeSpan.FromSeconds(1));

        await VirtualTimeDriver.WaitUntilAsync(() => !registration.IsRegistered);
        Assert.That(_logger.Entries.Count(e => e.EventId.Id == 5013), Is.EqualTo(3));
        await registration.DisposeAsync().AsTask().WaitAsync(TestContext.CurrentContext.CancellationToken);
    }

    [Test]
    public async Task Dispose_NothingRunsAfter()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        MultiMasterRegistration registration = Create();
        registration.Start();
        _masters.HeartbeatLater["m1"] = _masters.HangAsync<MasterHeartbeatResponse>;
        _time.Advance(TimeSpan.FromSeconds(15));

        await registration.DisposeAsync();
        int calls = _masters.RegisterCalls.Count + _masters.HeartbeatCalls.Count;
        _time.Advance(TimeSpan.FromMinutes(10));
        await VirtualTimeDriver.WaitUntilAsync(() => _masters.Cancelled == 1);

        Assert.Multiple(() =>
        {
            Assert.That(_masters.Cancelled, Is.EqualTo(1), "the heartbeat in flight was cancelled");
            Assert.That(_masters.RegisterCalls.Count + _masters.HeartbeatCalls.Count, Is.EqualTo(calls));
            Assert.That(_timer.PendingTimeouts, Is.Zero);
            Assert.Throws<ObjectDisposedException>(registration.Start);
        });
    }

    [Test]
    public async Task Dispose_FromTheStateReport_DoesNotDeadlock()
    {
        MultiMasterRegistration? registration = null;
        _listener.Report = async _ => await registration!.DisposeAsync();
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        registration = Create();

        registration.Start();
        await VirtualTimeDriver.WaitUntilAsync(() => _timer.PendingTimeouts == 0);

        Assert.That(registration.IsRegistered, Is.True, "registered, then disposed from the report");
    }

    [Test]
    public async Task StateReportThrowing_IsLoggedAndTheRegistrationStands()
    {
        _listener.Report = _ => ValueTask.FromException(new InvalidOperationException("report failed"));
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();

        registration.Start();

        Assert.That(registration.IsRegistered, Is.True);
        Assert.That(_logger.Entries.Single(e => e.EventId.Id == 5010).Exception, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public async Task Credentials_InMasterAddresses_NeverReachTheLogs()
    {
        const string Master = "spark://admin:s3cret-canary@m1:7077";
        _masters.Register[Master] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat[Master] = () => MasterHeartbeatResponse.Reconnect;
        await using MultiMasterRegistration registration = Create(masters: [Master]);

        registration.Start();
        _time.Advance(TimeSpan.FromSeconds(15));
        registration.MasterChanged("spark://admin:s3cret-canary@elsewhere:7077");

        Assert.That(_logger.Entries, Has.Count.GreaterThanOrEqualTo(3));
        Assert.That(_logger.Entries.Select(e => e.Message), Has.None.Contains("s3cret-canary"));
        Assert.That(_logger.Entries.Select(e => e.Message), Has.Some.Contains("spark://***@m1:7077"));
    }

    [TestCase("worker 1")]
    [TestCase("worker\t1")]
    public void WorkerIdWithWhitespace_IsRejectedNamingTheParameter(string workerId)
    {
        var exception = Assert.Throws<ArgumentException>(() => new MultiMasterRegistration(["m1"], workerId, _masters, _listener, _timer, _time));

        Assert.That(exception!.ParamName, Is.EqualTo("workerId"));
        Assert.That(exception.Message, Does.Contain("whitespace"));
    }

    [Test]
    public async Task InitialRetriesZero_UsesTheProlongedIntervalFromTheStart()
    {
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0, InitialRetries = 0, TotalRetries = 2 }, ["m1"]);

        registration.Start();
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(_masters.RegisterCalls.Select(c => c.At.TotalSeconds), Is.EqualTo(new double[] { 0, 60, 120 }));
        Assert.That(_listener.GaveUp, Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public async Task MasterChangedWhileRegistering_AsksItAtOnceAndKeepsTheGiveUpCount()
    {
        // Retries at 10 and 20 s, the give-up check at 30 s; a master announces itself every 8 s meanwhile.
        var options = new MultiMasterOptions { FuzzFactor = 1.0, InitialRetries = 2, TotalRetries = 2, ProlongedRetryInterval = TimeSpan.FromSeconds(10) };
        await using MultiMasterRegistration registration = Create(options);
        registration.Start();

        for (int i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(8));
            registration.MasterChanged("m2");
        }

        Assert.That(_masters.RegisterCalls.Count(c => c.Master == "m2" && c.At == TimeSpan.FromSeconds(8)), Is.EqualTo(1), "asked at once");
        Assert.That(_listener.GaveUp, Is.EqualTo(new[] { 2 }), "announcements do not restart the schedule: it still gives up after its retries");
    }

    [Test]
    public async Task MasterChangedToTheActiveMaster_DoesNotRegisterAgain()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();
        registration.Start();
        int calls = _masters.RegisterCalls.Count;

        registration.MasterChanged("m1");

        Assert.That(_masters.RegisterCalls, Has.Count.EqualTo(calls));
        Assert.That(registration.IsRegistered, Is.True);
    }

    [Test]
    public async Task ReregisteringOffBeat_KeepsOneHeartbeatTimerAndItsSchedule_Spark1685()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        await using MultiMasterRegistration registration = Create();
        registration.Start();
        _time.Advance(TimeSpan.FromSeconds(20));

        registration.MasterChanged("m2");
        registration.MasterChanged("m1");

        Assert.That(_timer.PendingTimeouts, Is.EqualTo(1), "one heartbeat timer and no retry timer");
        _time.Advance(TimeSpan.FromSeconds(26));
        Assert.That(_masters.HeartbeatCalls.Select(c => c.At.TotalSeconds), Is.EqualTo(new double[] { 15, 30, 45 }));
    }

    [Test]
    public async Task GivingUpAfterARegistration_StopsTheHeartbeats()
    {
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _masters.Heartbeat["m1"] = () => MasterHeartbeatResponse.Reconnect;
        await using MultiMasterRegistration registration = Create(new MultiMasterOptions { FuzzFactor = 1.0, InitialRetries = 1, TotalRetries = 1 });
        registration.Start();
        _masters.Register.Clear();

        // Reconnect at 15 s, one retry at 25 s, the give-up check one prolonged interval later, at 85 s.
        _time.Advance(TimeSpan.FromSeconds(90));
        int beats = _masters.HeartbeatCalls.Count;
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(_listener.GaveUp, Is.EqualTo(new[] { 1 }));
        Assert.That(_masters.HeartbeatCalls, Has.Count.EqualTo(beats), "no heartbeats after giving up");
        Assert.That(_timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public async Task Heartbeats_CarryTheNewestReport_AgainAfterAFailure_AndToANewMasterAtOnce()
    {
        // Reports at 0 and 40 s; heartbeats at 15, 30, 45, 60 and 75 s.
        await using var reporter = new HealthReporter(_timer, timeProvider: _time, options: new HealthReporterOptions { ReportInterval = TimeSpan.FromSeconds(40) });
        reporter.Start();
        _masters.Register["m1"] = () => MasterRegistrationResponse.Registered;
        _masters.Register["m2"] = () => MasterRegistrationResponse.Registered;
        int beat = 0;
        _masters.HeartbeatLater["m1"] = _ => ++beat == 3
            ? ValueTask.FromException<MasterHeartbeatResponse>(new IOException("a blip"))
            : ValueTask.FromResult(MasterHeartbeatResponse.Ok);
        await using var registration = new MultiMasterRegistration(s_masters, "worker-1", _masters, _listener, _timer, _time, new MultiMasterOptions { FuzzFactor = 1.0 }, _logger)
        {
            HealthReporter = reporter,
        };
        registration.Start();

        _time.Advance(TimeSpan.FromSeconds(70));
        registration.MasterChanged("m2");
        _time.Advance(TimeSpan.FromSeconds(5));

        // 15 s: #1. 30 s: nothing newer. 45 s: #2, failed. 60 s: #2 again. 75 s, to the new master m2: #2 at once.
        Assert.That(_masters.Reports.Select(r => r?.Sequence), Is.EqualTo(new long?[] { 1, null, 2, 2, 2 }));
        Assert.That(_masters.HeartbeatCalls[^1].Master, Is.EqualTo("m2"));
    }
}
