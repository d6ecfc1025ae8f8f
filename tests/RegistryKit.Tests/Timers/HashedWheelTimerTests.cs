using Microsoft.Extensions.Logging;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Timers;

public class HashedWheelTimerTests
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(10);

    private ManualTimeProvider _time = null!;
    private DateTimeOffset _start;
    private readonly List<HashedWheelTimer> _timers = [];

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _start = _time.GetUtcNow();
    }

    [TearDown]
    public void TearDown()
    {
        foreach (HashedWheelTimer timer in _timers)
        {
            timer.Stop();
        }

        _timers.Clear();
    }

    [Test]
    public void Defaults_ArePinned()
    {
        var options = new HashedWheelTimerOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.TickDuration, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
            Assert.That(options.WheelSize, Is.EqualTo(8192));
            Assert.That(options.MaxPendingTimeouts, Is.Zero);
            Assert.That(options.TaskScheduler, Is.Null);
            Assert.That(HashedWheelTimerDefaults.MinTickDuration, Is.EqualTo(TimeSpan.FromMilliseconds(1)));
            Assert.That(HashedWheelTimerDefaults.MaxWheelSize, Is.EqualTo(1 << 30));
            Assert.That(HashedWheelTimerDefaults.InstanceWarningThreshold, Is.EqualTo(64));
            Assert.That(HashedWheelTimerDefaults.WakeUpThreadIdleExit, Is.EqualTo(TimeSpan.FromSeconds(1)));
        });
    }

    [TestCase(1, 1)]
    [TestCase(3, 4)]
    [TestCase(500, 512)]
    [TestCase(512, 512)]
    [TestCase(4_000, 4_096)]
    public void Constructor_WheelSize_IsRoundedUpToPowerOfTwo(int requested, int expected)
    {
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { WheelSize = requested, TickDuration = TimeSpan.FromMilliseconds(1) });

        Assert.That(timer.WheelSize, Is.EqualTo(expected));
    }

    [Test]
    public void Constructor_TickBelowOneMillisecond_ThrowsNamingTheSetting()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromTicks(9_999) }));

        Assert.That(exception!.ParamName, Is.EqualTo("options"));
        Assert.That(exception.Message, Does.Contain("TickDuration").And.Contain("at least 1 ms"));
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase((1 << 30) + 1)]
    public void Constructor_WheelSizeOutOfRange_ThrowsNamingTheSetting(int size)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => new HashedWheelTimer(_time, new HashedWheelTimerOptions { WheelSize = size }));

        Assert.That(exception!.ParamName, Is.EqualTo("options"));
        Assert.That(exception.Message, Does.Contain("WheelSize").And.Contain("from 1 to"));
    }

    [Test]
    public void Constructor_TickTimesSizeOverflows_Throws()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromDays(365 * 1000), WheelSize = 1 << 20 }));

        Assert.That(exception!.Message, Does.Contain("overflows"));
    }

    [Test]
    public void Constructor_NegativeMaxPending_Throws()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(
            () => new HashedWheelTimer(_time, new HashedWheelTimerOptions { MaxPendingTimeouts = -1 }));

        Assert.That(exception!.Message, Does.Contain("MaxPendingTimeouts").And.Contain("0 for no limit"));
    }

    [Test]
    public void NewTimeout_NullTask_Throws()
    {
        HashedWheelTimer timer = CreateTimer();

        Assert.That(() => timer.NewTimeout((ITimerTask)null!, TimeSpan.Zero), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("task"));
        Assert.That(() => timer.NewTimeout((Action<WheelTimeout>)null!, TimeSpan.Zero), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("callback"));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_NegativeDelay_ThrowsAndCountsNothing()
    {
        HashedWheelTimer timer = CreateTimer();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(-1)));

        Assert.That(exception!.ParamName, Is.EqualTo("delay"));
        Assert.That(exception.Message, Does.Contain("must not be negative"));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_DelayAboveMax_Throws()
    {
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { WheelSize = 1, TickDuration = TimeSpan.FromMilliseconds(1) });

        Assert.That(timer.MaxDelay, Is.GreaterThan(TimeSpan.FromDays(20)));
        Assert.That(() => timer.NewTimeout(_ => { }, timer.MaxDelay + TimeSpan.FromTicks(1)), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => timer.NewTimeout(_ => { }, timer.MaxDelay), Throws.Nothing);
    }

    [Test]
    public void NewTimeout_FiresAtTheTickAfterItsDelay_NeverEarly()
    {
        HashedWheelTimer timer = CreateTimer();
        TimeSpan? firedAt = null;
        timer.NewTimeout(_ => firedAt = Elapsed, TimeSpan.FromMilliseconds(25));

        _time.Advance(TimeSpan.FromMilliseconds(24));
        Assert.That(firedAt, Is.Null);

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(firedAt, Is.EqualTo(TimeSpan.FromMilliseconds(30)));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_ZeroDelay_FiresAtNextTick()
    {
        HashedWheelTimer timer = CreateTimer();
        TimeSpan? firedAt = null;
        _time.Advance(TimeSpan.FromMilliseconds(3));

        timer.NewTimeout(_ => firedAt = Elapsed, TimeSpan.Zero);
        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.That(firedAt, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
    }

    [Test]
    public void NewTimeout_ManyRandomDelays_EachFiresWithinOneTickAfterItsDeadline([Values(1, 2, 3)] int seed)
    {
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 64 });
        var random = new Random(seed);
        var lateness = new List<TimeSpan>();
        for (int i = 0; i < 2_000; i++)
        {
            TimeSpan deadline = Elapsed + TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.FromSeconds(3).Ticks));
            timer.NewTimeout(_ => lateness.Add(Elapsed - deadline), deadline - Elapsed);
            if (i % 50 == 0)
            {
                _time.Advance(TimeSpan.FromTicks(random.NextInt64(0, TimeSpan.FromMilliseconds(30).Ticks)));
            }
        }

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(lateness, Has.Count.EqualTo(2_000));
        Assert.That(lateness, Has.All.GreaterThanOrEqualTo(TimeSpan.Zero), "a timeout fired early");
        Assert.That(lateness, Has.All.LessThan(s_tick), "a timeout fired more than a tick late");
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_BeyondOneRevolution_WaitsForItsRound()
    {
        // 16 buckets of 10 ms: one revolution is 160 ms.
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 16 });
        TimeSpan? firedAt = null;
        timer.NewTimeout(_ => firedAt = Elapsed, TimeSpan.FromMilliseconds(1000));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.That(firedAt, Is.Null);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(firedAt, Is.EqualTo(TimeSpan.FromMilliseconds(1000)));
    }

    [Test]
    public void NewTimeout_SameDeadline_FiresInScheduleOrder()
    {
        HashedWheelTimer timer = CreateTimer();
        var order = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            int id = i;
            timer.NewTimeout(_ => order.Add(id), TimeSpan.FromMilliseconds(50));
        }

        _time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void Task_ReschedulingItself_KeepsFixedPeriod()
    {
        HashedWheelTimer timer = CreateTimer();
        var beat = new RecurringTask(timer, TimeSpan.FromMilliseconds(100), () => Elapsed);

        timer.NewTimeout(beat, TimeSpan.FromMilliseconds(100));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(beat.FiredAt, Is.EqualTo(Enumerable.Range(1, 10).Select(i => TimeSpan.FromMilliseconds(100 * i))));
    }

    [Test]
    public void Wheel_WithNothingPending_AsksForNoWakeUp()
    {
        HashedWheelTimer timer = CreateTimer();
        Assert.That(_time.ScheduledTimers, Is.Zero, "an idle wheel must not tick");

        WheelTimeout timeout = timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        Assert.That(_time.ScheduledTimers, Is.EqualTo(1));

        timeout.Cancel();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(_time.ScheduledTimers, Is.Zero);

        timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(20));
        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.That(_time.ScheduledTimers, Is.Zero);
    }

    [Test]
    public void Wheel_WithOneDistantTimeout_SleepsUntilItsBucket()
    {
        HashedWheelTimer timer = CreateTimer();

        timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(5));

        Assert.That(_time.GetTimeToNextTimer(), Is.EqualTo(TimeSpan.FromSeconds(5)), "the wheel must not wake every tick");
    }

    [Test]
    public void Wheel_EarlierTimeoutScheduledWhileAsleep_WakesEarlier()
    {
        HashedWheelTimer timer = CreateTimer();
        TimeSpan? firedAt = null;
        timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(5));

        timer.NewTimeout(_ => firedAt = Elapsed, TimeSpan.FromMilliseconds(100));
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.That(firedAt, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
    }

    [Test]
    public void Wheel_LateWakeUpOverManyRevolutions_CatchesUpWithoutEarlyFiring()
    {
        var clock = new HandFiredTimeProvider();
        var timer = new HashedWheelTimer(clock, new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 16 });
        _timers.Add(timer);
        var fired = new List<string>();
        timer.NewTimeout(_ => fired.Add("1s"), TimeSpan.FromSeconds(1));
        timer.NewTimeout(_ => fired.Add("7s"), TimeSpan.FromSeconds(7));
        timer.NewTimeout(_ => fired.Add("20s"), TimeSpan.FromSeconds(20));

        clock.Now = TimeSpan.FromSeconds(8);
        clock.Fire();
        Assert.That(fired, Is.EqualTo(new[] { "1s", "7s" }));
        Assert.That(timer.PendingTimeouts, Is.EqualTo(1));

        clock.Now = TimeSpan.FromMilliseconds(19_999);
        clock.Fire();
        Assert.That(fired, Has.Count.EqualTo(2));

        clock.Now = TimeSpan.FromSeconds(60);
        clock.Fire();
        Assert.That(fired, Is.EqualTo(new[] { "1s", "7s", "20s" }));
    }

    [Test]
    public void Wheel_WakeUpWhileAPassRuns_NeverRunsTwoPassesAtOnce()
    {
        var clock = new HandFiredTimeProvider();
        var timer = new HashedWheelTimer(clock, new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 16 });
        _timers.Add(timer);
        int depth = 0;
        int maxDepth = 0;
        var fired = new List<int>();
        timer.NewTimeout(
            _ =>
            {
                depth++;
                maxDepth = Math.Max(maxDepth, depth);
                fired.Add(1);
                clock.Fire();
                depth--;
            },
            TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => fired.Add(2), TimeSpan.FromMilliseconds(20));

        clock.Now = TimeSpan.FromMilliseconds(10);
        clock.Fire();
        Assert.That(fired, Is.EqualTo(new[] { 1 }));

        clock.Now = TimeSpan.FromMilliseconds(20);
        clock.Fire();
        Assert.That(fired, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(maxDepth, Is.EqualTo(1));
    }

    [Test]
    public void Cancel_PendingTimeout_TrueOnceAndTaskNeverRuns()
    {
        HashedWheelTimer timer = CreateTimer();
        bool ran = false;
        WheelTimeout timeout = timer.NewTimeout(_ => ran = true, TimeSpan.FromMilliseconds(50));

        Assert.That(timeout.Cancel(), Is.True);
        Assert.That(timeout.Cancel(), Is.False);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(ran, Is.False);
        Assert.That(timeout.IsCancelled, Is.True);
        Assert.That(timeout.IsExpired, Is.False);
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Cancel_AfterExpiry_ReturnsFalse()
    {
        HashedWheelTimer timer = CreateTimer();
        WheelTimeout timeout = timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(10));

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.That(timeout.IsExpired, Is.True);
        Assert.That(timeout.Cancel(), Is.False);
        Assert.That(timeout.IsCancelled, Is.False);
    }

    [Test]
    public void Task_SeesItsTimeoutExpiredAndCannotCancelIt()
    {
        HashedWheelTimer timer = CreateTimer();
        TimeoutStatus? seen = null;
        bool? cancelled = null;
        timer.NewTimeout(
            timeout =>
            {
                seen = timeout.Status;
                cancelled = timeout.Cancel();
            },
            TimeSpan.FromMilliseconds(10));

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.That(seen, Is.EqualTo(TimeoutStatus.Expired));
        Assert.That(cancelled, Is.False);
    }

    [Test]
    public void Cancel_OfAnotherTimeoutInTheSameDueTick_KeepsPendingCountExact_Netty2025()
    {
        // Netty counted a timeout cancelled during its own due tick twice, driving the pending count negative.
        HashedWheelTimer timer = CreateTimer();
        WheelTimeout second = default;
        bool? cancelledSecond = null;
        bool secondRan = false;
        timer.NewTimeout(_ => cancelledSecond = second.Cancel(), TimeSpan.FromMilliseconds(10));
        second = timer.NewTimeout(_ => secondRan = true, TimeSpan.FromMilliseconds(10));
        WheelTimeout later = timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        Assert.That(timer.PendingTimeouts, Is.EqualTo(3));

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.That(cancelledSecond, Is.False, "the second timeout had already expired with the first");
        Assert.That(secondRan, Is.True);
        Assert.That(timer.PendingTimeouts, Is.EqualTo(1));
        Assert.That(later.Cancel(), Is.True);
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Cancel_FromATaskOfAnotherTickDueLater_CountsOnce()
    {
        HashedWheelTimer timer = CreateTimer();
        WheelTimeout victim = timer.NewTimeout(_ => Assert.Fail("cancelled timeout ran"), TimeSpan.FromMilliseconds(30));
        timer.NewTimeout(_ => victim.Cancel(), TimeSpan.FromMilliseconds(10));

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(timer.PendingTimeouts, Is.Zero);
        Assert.That(victim.Cancel(), Is.False);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void MaxPendingTimeouts_Exceeded_ThrowsAndKeepsCountExact()
    {
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, MaxPendingTimeouts = 2 });
        WheelTimeout first = timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));

        var exception = Assert.Throws<TimeoutRejectedException>(() => timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1)));

        Assert.That(exception!.Message, Does.Contain("MaxPendingTimeouts"));
        Assert.That(timer.PendingTimeouts, Is.EqualTo(2));
        first.Cancel();
        Assert.That(() => timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1)), Throws.Nothing);
        Assert.That(timer.PendingTimeouts, Is.EqualTo(2));
    }

    [Test]
    public void Stop_ReturnsUnprocessedTimeoutsCancelled()
    {
        var timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick });
        bool ran = false;
        WheelTimeout a = timer.NewTimeout(_ => ran = true, TimeSpan.FromSeconds(1));
        WheelTimeout b = timer.NewTimeout(_ => ran = true, TimeSpan.FromSeconds(20));
        WheelTimeout done = timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        IReadOnlyList<WheelTimeout> unprocessed = timer.Stop();
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(unprocessed, Is.EquivalentTo(new[] { a, b }));
        Assert.That(unprocessed.Select(t => t.IsCancelled), Has.All.True);
        Assert.That(a.Cancel(), Is.False);
        Assert.That(done.IsExpired, Is.True);
        Assert.That(ran, Is.False);
        Assert.That(timer.PendingTimeouts, Is.Zero);
        Assert.That(_time.ScheduledTimers, Is.Zero);
        Assert.That(timer.Stop(), Is.Empty);
    }

    [Test]
    public void NewTimeout_AfterStop_ThrowsAndCountsNothing()
    {
        var timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick });
        timer.Dispose();

        Assert.That(() => timer.NewTimeout(_ => { }, TimeSpan.Zero), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Stop_FromItsOwnTask_ThrowsAndWheelCarriesOn()
    {
        var logger = new CollectingLogger<HashedWheelTimer>();
        HashedWheelTimer timer = CreateTimer(logger: logger);
        Exception? thrown = null;
        bool laterRan = false;
        timer.NewTimeout(
            _ =>
            {
                try
                {
                    timer.Stop();
                }
                catch (InvalidOperationException exception)
                {
                    thrown = exception;
                }
            },
            TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => laterRan = true, TimeSpan.FromMilliseconds(20));

        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.That(thrown, Is.Not.Null);
        Assert.That(thrown!.Message, Does.Contain("own tasks"));
        Assert.That(laterRan, Is.True);
    }

    [Test]
    public void Task_Throwing_IsLoggedAndOthersStillRun()
    {
        var logger = new CollectingLogger<HashedWheelTimer>();
        HashedWheelTimer timer = CreateTimer(logger: logger);
        var ran = new List<string>();
        timer.NewTimeout(_ => throw new InvalidOperationException("boom"), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => ran.Add("same tick"), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => ran.Add("later"), TimeSpan.FromMilliseconds(50));

        _time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.That(ran, Is.EqualTo(new[] { "same tick", "later" }));
        LogEntry entry = logger.Entries.Single();
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(entry.EventId.Id, Is.EqualTo(1000));
        Assert.That(entry.Exception, Is.TypeOf<InvalidOperationException>());
    }

    [Test]
    public void TaskScheduler_Set_HandsExpiredTasksToItInsteadOfRunningThemInline()
    {
        var scheduler = new QueueingTaskScheduler();
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, TaskScheduler = scheduler });
        var ran = new List<int>();
        WheelTimeout slow = timer.NewTimeout(_ => ran.Add(1), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => ran.Add(2), TimeSpan.FromMilliseconds(10));

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(ran, Is.Empty, "tasks must not run on the wheel's callback");
        Assert.That(scheduler.Queued, Is.EqualTo(2));
        Assert.That(slow.IsExpired, Is.True);

        scheduler.RunAll();
        Assert.That(ran, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_MoreTicksAwayThanAnIntHolds_IsPlacedDirectlyAndFiresOnTime()
    {
        // A new timeout waits among the new ones with its due tick as an int offset; 30 days of 1 ms ticks (2.6e9)
        // do not fit, so it goes straight to its bucket. Beside it, a near one takes the ordinary way. The clock jumps
        // and the wheel wakes once per jump (stepping a manual clock through 30 days of wake-ups would take seconds).
        var clock = new JumpingClock();
        using var timer = new HashedWheelTimer(clock, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(1) });
        TimeSpan? farAt = null;
        TimeSpan? nearAt = null;
        timer.NewTimeout(_ => farAt = clock.Now, TimeSpan.FromDays(30));
        timer.NewTimeout(_ => nearAt = clock.Now, TimeSpan.FromSeconds(1));

        clock.JumpTo(TimeSpan.FromSeconds(1));
        Assert.That(nearAt, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(timer.PendingTimeouts, Is.EqualTo(1));

        clock.JumpTo(TimeSpan.FromDays(30) - TimeSpan.FromMilliseconds(1));
        Assert.That(farAt, Is.Null, "never early");

        clock.JumpTo(TimeSpan.FromDays(30));
        Assert.That(farAt, Is.EqualTo(TimeSpan.FromDays(30)));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void NewTimeout_BeyondTheSystemTimerLimit_WakesInStepsAndFiresOnTime()
    {
        // System.Threading timers (and ManualTimeProvider, like them) refuse waits over 49.7 days.
        HashedWheelTimer timer = CreateTimer();
        TimeSpan? firedAt = null;

        timer.NewTimeout(_ => firedAt = Elapsed, TimeSpan.FromDays(60));
        Assert.That(timer.PendingTimeouts, Is.EqualTo(1));

        _time.Advance(TimeSpan.FromDays(60) - TimeSpan.FromMilliseconds(1));
        Assert.That(firedAt, Is.Null);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(firedAt, Is.EqualTo(TimeSpan.FromDays(60)));
    }

    [Test]
    public void TaskScheduler_RefusingWork_TaskRunsInlineAndWheelCarriesOn()
    {
        var logger = new CollectingLogger<HashedWheelTimer>();
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, TaskScheduler = new RefusingTaskScheduler() }, logger);
        var ran = new List<int>();
        timer.NewTimeout(_ => ran.Add(1), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => ran.Add(2), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => ran.Add(3), TimeSpan.FromMilliseconds(20));

        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.That(ran, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(logger.Entries.Select(e => e.EventId.Id), Is.EqualTo(new[] { 1003, 1003, 1003 }));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void Task_ThrowingWithAThrowingLogger_WheelCarriesOn()
    {
        HashedWheelTimer timer = CreateTimer(logger: new ThrowingLogger());
        bool laterRan = false;
        timer.NewTimeout(_ => throw new InvalidOperationException("boom"), TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => laterRan = true, TimeSpan.FromMilliseconds(20));

        Assert.That(() => _time.Advance(TimeSpan.FromMilliseconds(20)), Throws.Nothing);
        Assert.That(laterRan, Is.True);
    }

    [Test]
    public void Stop_WithTaskScheduler_QueuedTasksThatHaveNotStartedNeverRun()
    {
        var scheduler = new QueueingTaskScheduler();
        var timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick, TaskScheduler = scheduler });
        bool ran = false;
        timer.NewTimeout(_ => ran = true, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(scheduler.Queued, Is.EqualTo(1));

        timer.Stop();
        scheduler.RunAll();

        Assert.That(ran, Is.False, "nothing may run after Stop returns");
    }

    [Test]
    public void Dispose_FromItsOwnTask_StopsWithoutThrowing()
    {
        var timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick });
        bool laterRan = false;
        Exception? thrown = null;
        timer.NewTimeout(
            _ =>
            {
                try
                {
                    timer.Dispose();
                }
                catch (InvalidOperationException exception)
                {
                    thrown = exception;
                }
            },
            TimeSpan.FromMilliseconds(10));
        timer.NewTimeout(_ => laterRan = true, TimeSpan.FromSeconds(1));

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(thrown, Is.Null);
        Assert.That(laterRan, Is.False);
        Assert.That(() => timer.NewTimeout(_ => { }, TimeSpan.Zero), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public void Constructor_BeyondInstanceThreshold_LogsWarning()
    {
        var logger = new CollectingLogger<HashedWheelTimer>();
        var created = new List<HashedWheelTimer>();
        try
        {
            while (HashedWheelTimer.LiveInstances < HashedWheelTimerDefaults.InstanceWarningThreshold)
            {
                created.Add(new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick }));
            }

            Assert.That(logger.Entries, Is.Empty);
            created.Add(new HashedWheelTimer(_time, logger: logger));

            LogEntry entry = logger.Entries.Single();
            Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(entry.EventId.Id, Is.EqualTo(1001));
            Assert.That(entry.Message, Does.Contain("one per process"));
        }
        finally
        {
            created.ForEach(timer => timer.Stop());
        }
    }

    [Test]
    public void Stop_DecrementsLiveInstances()
    {
        int before = HashedWheelTimer.LiveInstances;
        var timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = s_tick });
        Assert.That(HashedWheelTimer.LiveInstances, Is.EqualTo(before + 1));

        timer.Stop();
        timer.Stop();

        Assert.That(HashedWheelTimer.LiveInstances, Is.EqualTo(before));
    }

    [Test]
    public void ScheduleThenCancel_InSteadyState_AllocatesNothing()
    {
        HashedWheelTimer timer = CreateTimer();
        var task = new CountingTask();
        for (int i = 0; i < 1_000; i++)
        {
            timer.NewTimeout(task, TimeSpan.FromSeconds(1 + (i % 9))).Cancel();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            timer.NewTimeout(task, TimeSpan.FromSeconds(1 + (i % 9))).Cancel();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void PendingTimeout_RetainsAtMost56Bytes()
    {
        // The slope between two fill sizes is the cost of one more pending timeout; one-time costs (JIT tiering,
        // the test clock's first arm) cancel out.
        const int Count = 10_000;
        var task = new CountingTask();
        long bytesForCount = MeasureFreshFill(task, Count);
        long bytesForTwiceCount = MeasureFreshFill(task, 2 * Count);

        double perTimeout = (bytesForTwiceCount - bytesForCount) / (double)Count;

        Assert.That(perTimeout, Is.LessThanOrEqualTo(56.0));
        Assert.That(perTimeout, Is.GreaterThan(0.0), "each pending timeout needs a node of its own");
    }

    [Test]
    public void ExpiredNodes_AreReusedByLaterTimeouts()
    {
        HashedWheelTimer timer = CreateTimer();
        var task = new CountingTask();
        for (int i = 0; i < 100; i++)
        {
            timer.NewTimeout(task, TimeSpan.FromMilliseconds(10));
        }

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(timer.PooledNodes, Is.EqualTo(100));

        for (int i = 0; i < 100; i++)
        {
            timer.NewTimeout(task, TimeSpan.FromMilliseconds(10));
        }

        Assert.That(timer.PooledNodes, Is.Zero);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(task.Runs, Is.EqualTo(200));
    }

    [Test]
    public void FullBucket_ExpiredInChunks_RunsEveryDueTimeoutInOrder_AndKeepsTheFarOnes([Values] bool fromATask)
    {
        // More due timeouts than a chunk takes, with some a revolution away in the same bucket.
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 16 });
        var ran = new List<int>();
        var far = new List<WheelTimeout>();
        ScheduleAll(timer, fromATask, () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                int index = i;
                TimeSpan delay = i % 100 == 7 ? TimeSpan.FromMilliseconds(10 + 160) : TimeSpan.FromMilliseconds(10);
                WheelTimeout handle = timer.NewTimeout(_ => ran.Add(index), delay);
                if (i % 100 == 7)
                {
                    far.Add(handle);
                }
            }
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));

        int[] due = [.. Enumerable.Range(0, 1000).Where(i => i % 100 != 7)];
        Assert.Multiple(() =>
        {
            Assert.That(ran, Is.EqualTo(due), "every due timeout, in schedule order");
            Assert.That(far.Select(h => h.IsPending), Is.All.True);
            Assert.That(timer.PendingTimeouts, Is.EqualTo(10));
        });

        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.That(ran, Has.Count.EqualTo(990), "a revolution away is not due yet");
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(ran.Skip(990), Is.EqualTo(Enumerable.Range(0, 10).Select(k => (k * 100) + 7)));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void TaskOfAFullBucket_CancelsOneOfTheSameBucketNotYetReached_ItNeverRuns([Values] bool fromATask)
    {
        HashedWheelTimer timer = CreateTimer();
        var ran = new List<int>();
        var handles = new WheelTimeout[1000];
        bool cancelled = false;
        ScheduleAll(timer, fromATask, () =>
        {
            handles[0] = timer.NewTimeout(_ => { ran.Add(0); cancelled = handles[900].Cancel(); }, TimeSpan.FromMilliseconds(10));
            for (int i = 1; i < handles.Length; i++)
            {
                int index = i;
                handles[i] = timer.NewTimeout(_ => ran.Add(index), TimeSpan.FromMilliseconds(10));
            }
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(cancelled, Is.True, "the 900th was still waiting its turn");
            Assert.That(ran, Has.Count.EqualTo(999).And.No.Member(900));
            Assert.That(handles[900].IsCancelled, Is.True);
            Assert.That(timer.PendingTimeouts, Is.Zero);
        });
    }

    [Test]
    public void TaskOfAFullBucket_SchedulingARevolutionAhead_LandsInThatBucketButRunsARevolutionLater([Values] bool fromATask)
    {
        HashedWheelTimer timer = CreateTimer(new HashedWheelTimerOptions { TickDuration = s_tick, WheelSize = 16 });
        var ran = new List<string>();
        ScheduleAll(timer, fromATask, () =>
        {
            timer.NewTimeout(_ => timer.NewTimeout(_ => ran.Add("a revolution later"), TimeSpan.FromMilliseconds(160)), TimeSpan.FromMilliseconds(10));
            for (int i = 0; i < 600; i++)
            {
                timer.NewTimeout(_ => ran.Add("due"), TimeSpan.FromMilliseconds(10));
            }
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(ran, Has.Count.EqualTo(600).And.All.EqualTo("due"));
            Assert.That(timer.PendingTimeouts, Is.EqualTo(1));
        });

        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.That(ran, Has.Count.EqualTo(600));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.That(ran[^1], Is.EqualTo("a revolution later"));
    }

    [Test]
    public void DisposeFromATaskOfAFullBucket_CancelsTheTimeoutsNotYetReached([Values] bool fromATask)
    {
        HashedWheelTimer timer = CreateTimer();
        int ran = 0;
        var handles = new WheelTimeout[1000];
        ScheduleAll(timer, fromATask, () =>
        {
            handles[0] = timer.NewTimeout(_ => { ran++; timer.Dispose(); }, TimeSpan.FromMilliseconds(10));
            for (int i = 1; i < handles.Length; i++)
            {
                handles[i] = timer.NewTimeout(_ => ran++, TimeSpan.FromMilliseconds(10));
            }
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));

        int expired = handles.Count(h => h.IsExpired);
        Assert.Multiple(() =>
        {
            Assert.That(ran, Is.EqualTo(expired), "every expired timeout ran, and nothing else");
            Assert.That(expired, Is.InRange(1, 999), "the timeouts not yet reached are cancelled by the stop");
            Assert.That(handles.Count(h => h.IsCancelled), Is.EqualTo(1000 - expired));
            Assert.That(timer.PendingTimeouts, Is.Zero);
        });
    }

    /// <summary>
    /// Runs <paramref name="schedule"/> on the test's thread, so that its timeouts join the list of new ones; or, with
    /// <paramref name="fromATask"/>, from a task of the wheel a tick from now, which places them in their buckets at once.
    /// </summary>
    private void ScheduleAll(HashedWheelTimer timer, bool fromATask, Action schedule)
    {
        if (!fromATask)
        {
            schedule();
            return;
        }

        timer.NewTimeout(_ => schedule(), TimeSpan.Zero);
        _time.Advance(s_tick);
    }

    [Test]
    public void NewTimeoutBehindOneNotYetDue_StillRunsAtItsTick([Values] bool firstTaskSchedules)
    {
        // A pass takes the due new timeouts at the head of their list and stops at the first that is not due; one due
        // behind it must still run in that pass, whether the pass places it afterwards or the first task's own
        // schedule does (a task of the wheel places the waiting new timeouts at once).
        HashedWheelTimer timer = CreateTimer();
        var ran = new List<string>();
        WheelTimeout rescheduled = default;
        timer.NewTimeout(
            _ =>
            {
                ran.Add("first");
                if (firstTaskSchedules)
                {
                    rescheduled = timer.NewTimeout(_ => ran.Add("rescheduled"), TimeSpan.FromMilliseconds(30));
                }
            },
            TimeSpan.FromMilliseconds(10));
        WheelTimeout later = timer.NewTimeout(_ => ran.Add("50 ms"), TimeSpan.FromMilliseconds(50));
        WheelTimeout behind = timer.NewTimeout(_ => ran.Add("behind"), TimeSpan.FromMilliseconds(10));

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(ran, Is.EqualTo(new[] { "first", "behind" }));
            Assert.That(behind.IsExpired, Is.True);
            Assert.That(behind.Cancel(), Is.False);
            Assert.That(later.IsPending, Is.True);
            Assert.That(rescheduled.IsPending, Is.EqualTo(firstTaskSchedules));
            Assert.That(timer.PendingTimeouts, Is.EqualTo(firstTaskSchedules ? 2 : 1));
        });

        _time.Advance(TimeSpan.FromMilliseconds(40));
        Assert.That(ran, Is.EqualTo(firstTaskSchedules ? new[] { "first", "behind", "rescheduled", "50 ms" } : new[] { "first", "behind", "50 ms" }));
        Assert.That(timer.PendingTimeouts, Is.Zero);
    }

    [Test]
    public void TasksReArmingThemselves_ReuseTheNodeOfTheTaskBefore_WithoutConfusingOldAndNewHandles()
    {
        // A re-arming task takes the node the task before it just finished with; the handles of both generations must
        // keep telling the truth, and the counts must stay exact.
        HashedWheelTimer timer = CreateTimer();
        var old = new List<WheelTimeout>();
        var renewed = new List<WheelTimeout>();
        var rearming = new ReArmingTask(timer, old, renewed);
        var counting = new CountingTask();
        timer.NewTimeout(counting, TimeSpan.FromMilliseconds(10));
        for (int i = 0; i < 5; i++)
        {
            timer.NewTimeout(rearming, TimeSpan.FromMilliseconds(10));
        }

        timer.NewTimeout(counting, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(counting.Runs, Is.EqualTo(2));
            Assert.That(old, Has.Count.EqualTo(5));
            Assert.That(renewed, Has.Count.EqualTo(5));
            Assert.That(timer.PendingTimeouts, Is.EqualTo(5));

            // Seven nodes ran; five went on as the re-armed timeouts, two came back to the pool.
            Assert.That(timer.PooledNodes, Is.EqualTo(2));
            Assert.That(old.Select(h => h.IsExpired), Is.All.True);
            Assert.That(old.Select(h => h.Cancel()), Is.All.False);
            Assert.That(renewed.Select(h => h.IsPending), Is.All.True);
        });

        Assert.That(renewed[2].Cancel(), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(renewed[2].Cancel(), Is.False);
            Assert.That(old[2].IsExpired, Is.True);
            Assert.That(timer.PendingTimeouts, Is.EqualTo(4));
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(renewed.Where((_, i) => i != 2).Select(h => h.IsExpired), Is.All.True);
            Assert.That(renewed[2].IsCancelled, Is.True);
            Assert.That(old, Has.Count.EqualTo(9));
        });
    }

    [Test]
    public void ExpiringMoreNodesThanThePoolKeeps_PoolsUpToItsLimit_AndRunsEveryTask()
    {
        HashedWheelTimer timer = CreateTimer();
        var task = new CountingTask();
        int count = HashedWheelTimerDefaults.NodePoolLimit + 1000;
        var handles = new WheelTimeout[count];
        for (int i = 0; i < count; i++)
        {
            handles[i] = timer.NewTimeout(task, TimeSpan.FromMilliseconds(10));
        }

        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(task.Runs, Is.EqualTo(count));
            Assert.That(timer.PendingTimeouts, Is.Zero);
            Assert.That(timer.PooledNodes, Is.EqualTo(HashedWheelTimerDefaults.NodePoolLimit));
            Assert.That(handles.All(h => h.IsExpired), Is.True, "every handle, pooled node or not, reports its timeout expired");
            Assert.That(handles[^1].Cancel(), Is.False);
        });

        // The pooled nodes serve the next timeouts; their old handles still say expired.
        timer.NewTimeout(task, TimeSpan.FromMilliseconds(10));
        Assert.That(timer.PooledNodes, Is.EqualTo(HashedWheelTimerDefaults.NodePoolLimit - 1));
        Assert.That(handles.All(h => h.IsExpired), Is.True);
    }

    private TimeSpan Elapsed => _time.GetUtcNow() - _start;

    private long MeasureFreshFill(ITimerTask task, int count)
    {
        HashedWheelTimer timer = CreateTimer();

        // Arm the wake-up for the earliest deadline first, so that the fill never re-arms it.
        timer.NewTimeout(task, TimeSpan.FromMilliseconds(1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        ScheduleSpread(timer, task, count);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void ScheduleSpread(HashedWheelTimer timer, ITimerTask task, int count)
    {
        for (int i = 0; i < count; i++)
        {
            timer.NewTimeout(task, TimeSpan.FromMilliseconds(1 + (i % 9_000)));
        }
    }

    private HashedWheelTimer CreateTimer(HashedWheelTimerOptions? options = null, ILogger<HashedWheelTimer>? logger = null)
    {
        var timer = new HashedWheelTimer(_time, options ?? new HashedWheelTimerOptions { TickDuration = s_tick }, logger);
        _timers.Add(timer);
        return timer;
    }

    /// <summary>A clock that stands still until told to jump, then wakes its one timer once, whatever it asked for.</summary>
    private sealed class JumpingClock : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public TimeSpan Now { get; private set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now.Ticks;

        public void JumpTo(TimeSpan now)
        {
            Now = now;
            _callback!(_state);
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callback = callback;
            _state = state;
            return new Handle();
        }

        private sealed class Handle : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }

    private sealed class CountingTask : ITimerTask
    {
        public int Runs { get; private set; }

        public void Run(WheelTimeout timeout) => Runs++;
    }

    /// <summary>Records each handle it runs with; the first five runs each schedule it again, 10 ms later.</summary>
    private sealed class ReArmingTask(HashedWheelTimer timer, List<WheelTimeout> ran, List<WheelTimeout> scheduled) : ITimerTask
    {
        public void Run(WheelTimeout timeout)
        {
            ran.Add(timeout);
            if (ran.Count <= 5)
            {
                scheduled.Add(timer.NewTimeout(this, TimeSpan.FromMilliseconds(10)));
            }
        }
    }

    private sealed class RecurringTask(HashedWheelTimer timer, TimeSpan period, Func<TimeSpan> clock) : ITimerTask
    {
        public List<TimeSpan> FiredAt { get; } = [];

        public void Run(WheelTimeout timeout)
        {
            FiredAt.Add(clock());
            timer.NewTimeout(this, period);
        }
    }

    /// <summary>A task scheduler that only queues, so a test decides when tasks run.</summary>
    private sealed class QueueingTaskScheduler : TaskScheduler
    {
        private readonly Queue<Task> _tasks = new();

        public int Queued => _tasks.Count;

        public void RunAll()
        {
            while (_tasks.TryDequeue(out Task? task))
            {
                TryExecuteTask(task);
            }
        }

        protected override IEnumerable<Task> GetScheduledTasks() => _tasks;

        protected override void QueueTask(Task task) => _tasks.Enqueue(task);

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;
    }

    private sealed class RefusingTaskScheduler : TaskScheduler
    {
        protected override IEnumerable<Task> GetScheduledTasks() => [];

        protected override void QueueTask(Task task) => throw new InvalidOperationException("The scheduler has completed.");

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;
    }

    private sealed class ThrowingLogger : ILogger<HashedWheelTimer>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new AggregateException("a logging provider failed");
    }

    /// <summary>
    /// A clock whose single timer fires only when the test says so, at whatever time the test has set: the way to
    /// exercise a wake-up that comes late (a paused process) or re-entrantly.
    /// </summary>
    private sealed class HandFiredTimeProvider : TimeProvider
    {
        private HandTimer? _timer;

        public TimeSpan Now { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now.Ticks;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            _timer = new HandTimer(callback, state);

        public void Fire() => _timer!.Callback(_timer.State);

        private sealed class HandTimer(TimerCallback callback, object? state) : ITimer
        {
            public TimerCallback Callback { get; } = callback;

            public object? State { get; } = state;

            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
