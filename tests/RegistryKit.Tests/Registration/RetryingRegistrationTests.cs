using RegistryKit.Registration;
using RegistryKit.Testing;

namespace RegistryKit.Tests.Registration;

[CancelAfter(20_000)]
public class RetryingRegistrationTests
{
    private static readonly RetryingRegistrationOptions s_flinkTestOptions = new()
    {
        InitialTimeout = TimeSpan.FromMilliseconds(20),
        MaxTimeout = TimeSpan.FromMilliseconds(200),
        ErrorDelay = TimeSpan.FromMilliseconds(200),
        RefusedDelay = TimeSpan.FromMilliseconds(200),
    };

    private ManualTimeProvider _time = null!;
    private DateTimeOffset _start;
    private FakeGateway _gateway = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _start = _time.GetUtcNow();
        _gateway = new FakeGateway(() => _time.GetUtcNow() - _start);
    }

    [Test]
    public void Defaults_AreFlinks()
    {
        var options = new RetryingRegistrationOptions();

        Assert.That(options.InitialTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
        Assert.That(options.MaxTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(options.ErrorDelay, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(options.RefusedDelay, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void Options_MaxBelowInitial_ThrowsNamingTheSetting()
    {
        var options = new RetryingRegistrationOptions { InitialTimeout = TimeSpan.FromSeconds(1), MaxTimeout = TimeSpan.FromMilliseconds(500) };

        var exception = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.That(exception!.ParamName, Is.EqualTo("MaxTimeout"));
        Assert.That(exception.Message, Does.Contain("InitialTimeout"));
    }

    [Test]
    public async Task TimeoutsThenSuccess_TimeoutDoublesUpToTheCapAndRetriesAtOnce()
    {
        _gateway.Script(Outcome.Hang, Outcome.Hang, Outcome.Hang, Outcome.Hang, Outcome.Hang, Outcome.Hang, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        RegistrationResult<FakeGateway, string, string> result = await registration.Completion;
        Assert.That(result.Response.IsSuccess, Is.True);
        Assert.That(result.Response.SuccessValue, Is.EqualTo("registered-7"));
        Assert.That(_gateway.Attempts.Select(a => a.Attempt.Timeout.TotalMilliseconds), Is.EqualTo(new double[] { 20, 40, 80, 160, 200, 200, 200 }));
        Assert.That(_gateway.Attempts.Select(a => a.At.TotalMilliseconds), Is.EqualTo(new double[] { 0, 20, 60, 140, 300, 500, 700 }), "each timeout retries at once");
        Assert.That(_gateway.Attempts.Select(a => a.Attempt.FencingToken), Has.All.EqualTo(registration.FencingToken));
        Assert.That(_gateway.Attempts.Select(a => a.Attempt.Number), Is.EqualTo(Enumerable.Range(1, 7)));
    }

    [Test]
    public async Task FailureThenSuccess_WaitsTheRefusedDelayAndStartsAgainAtTheInitialTimeout()
    {
        _gateway.Script(Outcome.Hang, Outcome.Decline, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        Assert.That((await registration.Completion).Response.IsSuccess, Is.True);
        Assert.That(_gateway.Attempts.Select(a => (a.At.TotalMilliseconds, a.Attempt.Timeout.TotalMilliseconds)), Is.EqualTo(new[] { (0d, 20d), (20d, 40d), (220d, 20d) }));
    }

    [Test]
    public async Task ErrorThenSuccess_WaitsTheErrorDelayAndStartsAgainAtTheInitialTimeout()
    {
        _gateway.Script(Outcome.Hang, Outcome.Throw, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        Assert.That((await registration.Completion).Response.IsSuccess, Is.True);
        Assert.That(_gateway.Attempts.Select(a => (a.At.TotalMilliseconds, a.Attempt.Timeout.TotalMilliseconds)), Is.EqualTo(new[] { (0d, 20d), (20d, 40d), (220d, 20d) }));
    }

    [Test]
    public async Task AnswerArrivingAfterTheAttemptTimedOut_DoesNotCount()
    {
        _gateway.Script(Outcome.LateSuccess, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        Assert.That((await registration.Completion).Response.SuccessValue, Is.EqualTo("registered-7"));
        Assert.That(_gateway.Attempts.Select(a => (a.At.TotalMilliseconds, a.Attempt.Timeout.TotalMilliseconds)), Is.EqualTo(new[] { (0d, 20d), (20d, 40d) }), "the late success was a timeout: retried at once with double the time");
    }

    [Test]
    public async Task TimeoutRejectedExceptionFromInsideTheAttempt_IsAnErrorNotATimeout()
    {
        _gateway.Script(Outcome.InnerTimeout, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        Assert.That(_gateway.Attempts.Select(a => (a.At.TotalMilliseconds, a.Attempt.Timeout.TotalMilliseconds)), Is.EqualTo(new[] { (0d, 20d), (200d, 20d) }), "the error delay applies and the timeout does not double");
    }

    [Test]
    public void RegisterDelegateThrowingSynchronously_FailsTheRegistration()
    {
        using var registration = new RetryingRegistration<FakeGateway, string, string>(
            "master-1", Guid.NewGuid(), (_, _) => ValueTask.FromResult(_gateway), (_, _, _) => throw new FormatException("bug"), s_flinkTestOptions, _time);

        registration.Start();

        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () => await registration.Completion);
        Assert.That(exception!.InnerException, Is.TypeOf<FormatException>());
        Assert.That(registration.Attempts, Is.EqualTo(1));
    }

    [Test]
    public async Task DefaultSchedule_IsFlinks()
    {
        _gateway.Script(Enumerable.Repeat(Outcome.Hang, 11).Append(Outcome.Success).ToArray());
        using RetryingRegistration<FakeGateway, string, string> registration = Create(new RetryingRegistrationOptions());

        registration.Start();
        await RunUntilAsync(registration.Completion, step: TimeSpan.FromMilliseconds(100));

        Assert.That(
            _gateway.Attempts.Select(a => a.Attempt.Timeout.TotalMilliseconds),
            Is.EqualTo(new double[] { 100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000 }));
    }

    [Test]
    public async Task Rejection_CompletesNormallyWithoutRetrying()
    {
        _gateway.Script(Outcome.Reject);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);

        registration.Start();
        await RunUntilAsync(registration.Completion);
        _time.Advance(TimeSpan.FromMinutes(1));

        RegistrationResult<FakeGateway, string, string> result = await registration.Completion;
        Assert.That(result.Response.Kind, Is.EqualTo(RegistrationResponseKind.Rejection));
        Assert.That(result.Response.RejectionValue, Is.EqualTo("not allowed"));
        Assert.That(registration.Attempts, Is.EqualTo(1));
    }

    [Test]
    public async Task CancelDuringAnAttempt_LeavesAtMostOneCallAndIsNotAFailure_Flink7898()
    {
        _gateway.Script(Outcome.Hang, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);
        registration.Start();
        await _gateway.WaitForAttemptAsync(1);

        registration.Cancel();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(async () => await registration.Completion, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(registration.Completion.IsCanceled, Is.True, "cancellation is not a failure");
        Assert.That(_gateway.Attempts, Has.Count.EqualTo(1));
        Assert.That(registration.IsCanceled, Is.True);
    }

    [Test]
    public async Task CancelDuringTheRefusedDelay_MakesNoFurtherAttempt()
    {
        _gateway.Script(Outcome.Decline, Outcome.Success);
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);
        registration.Start();
        await _gateway.WaitForAttemptAsync(1);

        registration.Cancel();
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(async () => await registration.Completion, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_gateway.Attempts, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task ConnectFailing_IsRetriedAfterTheErrorDelay()
    {
        _gateway.Script(Outcome.Success);
        int connects = 0;
        using var registration = new RetryingRegistration<FakeGateway, string, string>(
            "master-1",
            Guid.NewGuid(),
            (_, _) => ++connects <= 2 ? ValueTask.FromException<FakeGateway>(new IOException("refused")) : ValueTask.FromResult(_gateway),
            (gateway, attempt, token) => gateway.RegisterAsync(attempt, token),
            s_flinkTestOptions,
            _time);

        registration.Start();
        await RunUntilAsync(registration.Completion);

        Assert.That(connects, Is.EqualTo(3));
        Assert.That(_gateway.Attempts.Single().At, Is.EqualTo(TimeSpan.FromMilliseconds(400)));
    }

    [Test]
    public void ConnectThrowingSynchronously_FailsTheRegistration()
    {
        using var registration = new RetryingRegistration<FakeGateway, string, string>(
            "master-1",
            Guid.NewGuid(),
            (_, _) => throw new ArgumentException("bad address"),
            (gateway, attempt, token) => gateway.RegisterAsync(attempt, token),
            s_flinkTestOptions,
            _time);

        registration.Start();

        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () => await registration.Completion);
        Assert.That(exception!.InnerException, Is.TypeOf<ArgumentException>());
        Assert.That(exception.Message, Does.Contain("master-1"));
    }

    [Test]
    public void StartTwice_Throws_AndCompletionNeedsStart()
    {
        using RetryingRegistration<FakeGateway, string, string> registration = Create(s_flinkTestOptions);
        Assert.That(() => registration.Completion, Throws.InvalidOperationException.With.Message.Contains("Start()"));

        _gateway.Script(Outcome.Hang);
        registration.Start();

        Assert.That(registration.Start, Throws.InvalidOperationException.With.Message.Contains("already started"));
        registration.Cancel();
    }

    private RetryingRegistration<FakeGateway, string, string> Create(RetryingRegistrationOptions options) =>
        new("master-1", Guid.NewGuid(), (_, _) => ValueTask.FromResult(_gateway), (gateway, attempt, token) => gateway.RegisterAsync(attempt, token), options, _time);

    /// <summary>Moves virtual time in small steps until the task is done (bounded, so a bug fails instead of spinning).</summary>
    private async Task RunUntilAsync(Task task, TimeSpan? step = null)
    {
        for (int i = 0; i < 100_000 && !task.IsCompleted; i++)
        {
            _time.Advance(step ?? TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }

        Assert.That(task.IsCompleted, Is.True, "the registration did not finish");
    }

    public enum Outcome
    {
        Hang,
        LateSuccess,
        InnerTimeout,
        Success,
        Decline,
        Reject,
        Throw,
    }

    public sealed class FakeGateway(Func<TimeSpan> clock)
    {
        private readonly Queue<Outcome> _script = new();
        private readonly List<TaskCompletionSource> _attemptWaiters = [];

        public List<(RegistrationAttempt Attempt, TimeSpan At)> Attempts { get; } = [];

        public void Script(params Outcome[] outcomes)
        {
            foreach (Outcome outcome in outcomes)
            {
                _script.Enqueue(outcome);
            }
        }

        public Task WaitForAttemptAsync(int number)
        {
            lock (_attemptWaiters)
            {
                if (Attempts.Count >= number)
                {
                    return Task.CompletedTask;
                }

                var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _attemptWaiters.Add(waiter);
                return waiter.Task.WaitAsync(TestContext.CurrentContext.CancellationToken);
            }
        }

        public async ValueTask<RegistrationResponse<string, string>> RegisterAsync(RegistrationAttempt attempt, CancellationToken token)
        {
            lock (_attemptWaiters)
            {
                Attempts.Add((attempt, clock()));
                _attemptWaiters.ForEach(w => w.TrySetResult());
                _attemptWaiters.Clear();
            }

            switch (_script.Dequeue())
            {
                case Outcome.Hang:
                    // Completed inline by the cancellation, so the retry runs at the virtual moment of the timeout
                    // (a Task.Delay would resume on the thread pool while the test moves the clock on).
                    var hang = new TaskCompletionSource();
                    await using (token.Register(() => hang.TrySetCanceled(token)))
                    {
                        await hang.Task;
                    }

                    throw new InvalidOperationException("unreachable");
                case Outcome.LateSuccess:
                    // Ignores its cancellation and answers once the deadline has passed.
                    var late = new TaskCompletionSource();
                    await using (token.Register(() => late.TrySetResult()))
                    {
                        await late.Task;
                    }

                    return RegistrationResponse<string, string>.Success("too-late");
                case Outcome.InnerTimeout:
                    throw new Polly.Timeout.TimeoutRejectedException("the host's own HTTP timeout");
                case Outcome.Success:
                    return RegistrationResponse<string, string>.Success("registered-7");
                case Outcome.Decline:
                    return RegistrationResponse<string, string>.Decline("not ready");
                case Outcome.Reject:
                    return RegistrationResponse<string, string>.Rejection("not allowed");
                default:
                    throw new IOException("connection reset");
            }
        }
    }
}
