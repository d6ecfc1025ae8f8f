using RegistryKit.Heartbeat;
using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Heartbeat;

[CancelAfter(20_000)]
public class HeartbeatManagerTests
{
    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;
    private RecordingListener _listener = null!;
    private DateTimeOffset _start;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _start = _time.GetUtcNow();
        _timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        _listener = new RecordingListener();
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Defaults_AreFlinks()
    {
        var options = new HeartbeatOptions();

        Assert.That(options.Interval, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.Timeout, Is.EqualTo(TimeSpan.FromSeconds(50)));
        Assert.That(options.FailedRpcThreshold, Is.EqualTo(2));
    }

    [TestCase(0, 50, 2, "Interval")]
    [TestCase(60, 50, 2, "Interval")]
    [TestCase(10, 0, 2, "Timeout")]
    [TestCase(10, 50, 0, "FailedRpcThreshold")]
    [TestCase(10, 50, -2, "FailedRpcThreshold")]
    public void Options_OutOfRange_ThrowNamingTheSetting(int interval, int timeout, int threshold, string setting)
    {
        var options = new HeartbeatOptions { Interval = TimeSpan.FromSeconds(interval), Timeout = TimeSpan.FromSeconds(timeout), FailedRpcThreshold = threshold };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo(setting));
        Assert.That(exception.Message, Does.Contain("HeartbeatOptions." + setting));
    }

    [Test]
    public async Task SilentTarget_TimesOutOnceAtTheTimeout()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        manager.MonitorTarget("worker-1", new FakeTarget());

        _time.Advance(TimeSpan.FromSeconds(50) - TimeSpan.FromMilliseconds(1));
        Assert.That(_listener.Timeouts, Is.Empty);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(_listener.Timeouts, Is.EqualTo(new[] { "worker-1" }));

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.That(_listener.Timeouts, Has.Count.EqualTo(1), "a silent target is reported once");
    }

    [Test]
    public async Task Heartbeat_ReArmsTheTimeout()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        manager.MonitorTarget("worker-1", new FakeTarget());

        _time.Advance(TimeSpan.FromSeconds(40));
        manager.ReceiveHeartbeat("worker-1", "load=0.3");
        _time.Advance(TimeSpan.FromSeconds(49));
        Assert.That(_listener.Timeouts, Is.Empty);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(_listener.Timeouts, Is.EqualTo(new[] { "worker-1" }));
        Assert.That(_listener.Payloads, Is.EqualTo(new[] { ("worker-1", "load=0.3") }));
    }

    [Test]
    public async Task ReceiveHeartbeat_FromAnUnmonitoredSender_StillReportsItsPayload()
    {
        await using HeartbeatManager<string, string> manager = Receiver();

        manager.ReceiveHeartbeat("stranger", "hello");

        Assert.That(_listener.Payloads, Is.EqualTo(new[] { ("stranger", "hello") }));
        Assert.That(manager.TryGetLastHeartbeat("stranger", out _), Is.False);
    }

    [Test]
    public async Task RequestHeartbeat_FromAMonitoredTarget_IsAnsweredWithOurPayload()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        var target = new FakeTarget();
        manager.MonitorTarget("master", target);
        _listener.OutgoingPayload = "report-7";

        await manager.RequestHeartbeatAsync("master", "ping");

        Assert.That(target.Received, Is.EqualTo(new[] { ("me", "report-7") }));
        Assert.That(_listener.Payloads, Is.EqualTo(new[] { ("master", "ping") }));
        Assert.That(manager.TryGetLastHeartbeat("master", out DateTimeOffset? at), Is.True);
        Assert.That(at, Is.EqualTo(_time.GetUtcNow()));
    }

    [Test]
    public async Task RequestHeartbeat_FromAnUnmonitoredTarget_IsIgnored()
    {
        await using HeartbeatManager<string, string> manager = Receiver();

        await manager.RequestHeartbeatAsync("stranger", "ping");

        Assert.That(_listener.Payloads, Is.Empty);
    }

    [Test]
    public async Task Sender_FirstRoundAtOnce_ThenEveryInterval()
    {
        await using HeartbeatManager<string, string> manager = Sender();
        var target = new FakeTarget { Clock = () => _time.GetUtcNow() - _start };
        manager.MonitorTarget("worker-1", target);

        _time.Advance(TimeSpan.FromSeconds(35));

        // The first round is due at once (it runs at the next tick); then rounds are due at fixed multiples of the interval.
        Assert.That(target.RequestedAt, Is.EqualTo(new[] { 0.01, 10, 20, 30 }.Select(TimeSpan.FromSeconds)));
        Assert.That(target.Requests, Has.All.EqualTo(("me", "payload-for-worker-1")));
    }

    [Test]
    public async Task UnreachableRequests_ReachingTheThreshold_ReportUnreachableOnce()
    {
        await using HeartbeatManager<string, string> manager = Sender();
        var target = new FakeTarget();
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        manager.MonitorTarget("worker-1", target);

        _time.Advance(TimeSpan.FromSeconds(10.01));
        Assert.That(_listener.Unreachable, Is.EqualTo(new[] { "worker-1" }));

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(_listener.Unreachable, Has.Count.EqualTo(1));
        Assert.That(_listener.Timeouts, Is.Empty, "an unreachable target is not also reported as timed out");
    }

    [Test]
    public async Task UnreachableCount_ResetByASuccess_FailFailOkFailWithThresholdThree_NoReport()
    {
        // Flink's own test of the reset could pass without it; this one cannot: without the reset the fourth
        // request would be the third failure.
        await using HeartbeatManager<string, string> manager = Sender(new HeartbeatOptions { FailedRpcThreshold = 3 });
        var target = new FakeTarget();
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        target.Outcomes.Enqueue(null);
        target.Outcomes.Enqueue(new RecipientUnreachableException());
        manager.MonitorTarget("worker-1", target);

        _time.Advance(TimeSpan.FromSeconds(30.01));

        Assert.That(target.Requests, Has.Count.EqualTo(4));
        Assert.That(_listener.Unreachable, Is.Empty);
    }

    [Test]
    public async Task OtherRequestFailures_DoNotCount()
    {
        await using HeartbeatManager<string, string> manager = Sender();
        var target = new FakeTarget();
        for (int i = 0; i < 5; i++)
        {
            target.Outcomes.Enqueue(new InvalidOperationException("target answered with an error"));
        }

        manager.MonitorTarget("worker-1", target);
        _time.Advance(TimeSpan.FromSeconds(40.01));

        Assert.That(target.Requests, Has.Count.EqualTo(5));
        Assert.That(_listener.Unreachable, Is.Empty);
    }

    [Test]
    public async Task ThresholdMinusOne_TurnsTheUnreachableCheckOff()
    {
        await using HeartbeatManager<string, string> manager = Sender(new HeartbeatOptions { FailedRpcThreshold = -1 });
        var target = new FakeTarget();
        for (int i = 0; i < 5; i++)
        {
            target.Outcomes.Enqueue(new RecipientUnreachableException());
        }

        manager.MonitorTarget("worker-1", target);
        _time.Advance(TimeSpan.FromSeconds(40.01));

        Assert.That(_listener.Unreachable, Is.Empty);
    }

    [Test]
    public async Task TimeoutThatExpiredJustBeforeAHeartbeat_DoesNotReportTheTarget()
    {
        // A and B time out in the same pass of the wheel; A's report delivers a heartbeat from B before B's own
        // (now stale) timeout task runs.
        await using HeartbeatManager<string, string> manager = Receiver();
        _listener.OnTimeoutHook = id =>
        {
            if (id == "A")
            {
                manager.ReceiveHeartbeat("B", "late but in time");
            }
        };
        manager.MonitorTarget("A", new FakeTarget());
        manager.MonitorTarget("B", new FakeTarget());

        _time.Advance(TimeSpan.FromSeconds(50));

        Assert.That(_listener.Timeouts, Is.EqualTo(new[] { "A" }));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.That(_listener.Timeouts, Is.EqualTo(new[] { "A", "B" }), "B's re-armed timeout still works");
    }

    [Test]
    public async Task Stop_WhileARequestIsInFlight_NothingIsReportedAfterwards()
    {
        HeartbeatManager<string, string> manager = Sender(new HeartbeatOptions { FailedRpcThreshold = 1 });
        var target = new FakeTarget { Gate = new TaskCompletionSource() };
        manager.MonitorTarget("worker-1", target);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(target.Requests, Has.Count.EqualTo(1));

        manager.Stop();
        target.Gate.SetException(new RecipientUnreachableException());
        await manager.DisposeAsync();

        Assert.That(_listener.Unreachable, Is.Empty);
    }

    [Test]
    public async Task AnswersToRequests_ThatCannotReachTheRequester_CountTowardsTheThreshold()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        var target = new FakeTarget { AnswerFails = true };
        manager.MonitorTarget("master", target);

        await manager.RequestHeartbeatAsync("master", "ping");
        Assert.That(_listener.Unreachable, Is.Empty);
        await manager.RequestHeartbeatAsync("master", "ping");

        Assert.That(_listener.Unreachable, Is.EqualTo(new[] { "master" }));
    }

    [Test]
    public async Task TryGetLastHeartbeat_DistinguishesUnknownSilentAndHeard()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        manager.MonitorTarget("worker-1", new FakeTarget());

        Assert.That(manager.TryGetLastHeartbeat("nobody", out DateTimeOffset? unknown), Is.False);
        Assert.That(unknown, Is.Null);
        Assert.That(manager.TryGetLastHeartbeat("worker-1", out DateTimeOffset? silent), Is.True);
        Assert.That(silent, Is.Null);

        _time.Advance(TimeSpan.FromSeconds(3));
        manager.ReceiveHeartbeat("worker-1", "x");
        Assert.That(manager.TryGetLastHeartbeat("worker-1", out DateTimeOffset? heard), Is.True);
        Assert.That(heard, Is.EqualTo(_start + TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Unmonitor_CancelsTheTimeout()
    {
        await using HeartbeatManager<string, string> manager = Receiver();
        manager.MonitorTarget("worker-1", new FakeTarget());

        manager.UnmonitorTarget("worker-1");
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(_listener.Timeouts, Is.Empty);
        Assert.That(_timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Stop_CancelsEverythingAndReportsNothingAfterwards()
    {
        HeartbeatManager<string, string> manager = Sender();
        var target = new FakeTarget();
        manager.MonitorTarget("worker-1", target);
        manager.MonitorTarget("worker-2", new FakeTarget());

        manager.Stop();
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(_listener.Timeouts, Is.Empty);
        Assert.That(target.Requests, Is.Empty);
        Assert.That(_timer.PendingTimeouts, Is.Zero);
        Assert.That(() => manager.MonitorTarget("worker-3", new FakeTarget()), Throws.InstanceOf<ObjectDisposedException>());
    }

    private HeartbeatManager<string, string> Receiver(HeartbeatOptions? options = null) =>
        HeartbeatManager.CreateReceiver("me", _listener, _timer, _time, options);

    private HeartbeatManager<string, string> Sender(HeartbeatOptions? options = null) =>
        HeartbeatManager.CreateSender("me", _listener, _timer, _time, options);

    private sealed class RecordingListener : IHeartbeatListener<string, string>
    {
        public List<string> Timeouts { get; } = [];

        public List<string> Unreachable { get; } = [];

        public List<(string, string)> Payloads { get; } = [];

        public string? OutgoingPayload { get; set; }

        public Action<string>? OnTimeoutHook { get; set; }

        public void OnHeartbeatTimeout(string targetId)
        {
            Timeouts.Add(targetId);
            OnTimeoutHook?.Invoke(targetId);
        }

        public void OnTargetUnreachable(string targetId) => Unreachable.Add(targetId);

        public void ReportPayload(string targetId, string payload) => Payloads.Add((targetId, payload));

        public string RetrievePayload(string targetId) => OutgoingPayload ?? "payload-for-" + targetId;
    }

    private sealed class FakeTarget : IHeartbeatTarget<string>
    {
        public Queue<Exception?> Outcomes { get; } = new();

        public Func<TimeSpan>? Clock { get; init; }

        public List<(string, string)> Requests { get; } = [];

        public List<TimeSpan> RequestedAt { get; } = [];

        public List<(string, string)> Received { get; } = [];

        public TaskCompletionSource? Gate { get; init; }

        public bool AnswerFails { get; init; }

        public ValueTask ReceiveHeartbeatAsync(string originId, string payload, CancellationToken cancellationToken)
        {
            Received.Add((originId, payload));
            return AnswerFails ? ValueTask.FromException(new RecipientUnreachableException()) : ValueTask.CompletedTask;
        }

        public ValueTask RequestHeartbeatAsync(string requestOriginId, string payload, CancellationToken cancellationToken)
        {
            Requests.Add((requestOriginId, payload));
            if (Clock is not null)
            {
                RequestedAt.Add(Clock());
            }

            if (Gate is not null)
            {
                return new ValueTask(Gate.Task);
            }

            return Outcomes.TryDequeue(out Exception? failure) && failure is not null
                ? ValueTask.FromException(failure)
                : ValueTask.CompletedTask;
        }
    }
}
