using System.Diagnostics;
using System.Runtime.InteropServices;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Timers;

/// <summary>
/// The wheel's wake-up on the system clock. These tests run a real thread and wait for it to signal (bounded by a
/// deadlock guard); none waits for time to pass: every timeout is due at once.
/// </summary>
public class WakeUpThreadTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(30);

    [Test]
    public void SystemClockWheel_RunsTasksOnItsOwnNamedBackgroundThread()
    {
        using var timer = new HashedWheelTimer(TimeProvider.System);
        using var ran = new ManualResetEventSlim();
        string? name = null;
        bool pool = true, background = false;
        timer.NewTimeout(
            _ =>
            {
                name = Thread.CurrentThread.Name;
                pool = Thread.CurrentThread.IsThreadPoolThread;
                background = Thread.CurrentThread.IsBackground;
                ran.Set();
            },
            TimeSpan.Zero);

        Assert.That(ran.Wait(s_guard), Is.True, "the timeout never ran");
        Assert.Multiple(() =>
        {
            Assert.That(name, Is.EqualTo(HashedWheelTimerDefaults.WakeUpThreadName));
            Assert.That(pool, Is.False, "a wake-up must not go through the thread pool");
            Assert.That(background, Is.True, "the thread must not keep the process alive");
            Assert.That(timer.WakeUpThread, Is.Not.Null);
        });
    }

    [Test]
    public void OtherClocks_DriveTheWheelThroughTheirOwnTimers()
    {
        using var timer = new HashedWheelTimer(new RegistryKit.Testing.ManualTimeProvider());

        Assert.That(timer.WakeUpThread, Is.Null);
    }

    [Test]
    public void SystemClockWheel_DoesNotLeakTheSchedulersAsyncLocalsIntoTasks()
    {
        var local = new AsyncLocal<string>();
        using var ran = new ManualResetEventSlim();
        string? seen = "not run";
        local.Value = "creator";
        using var timer = new HashedWheelTimer(TimeProvider.System);
        local.Value = "scheduler";
        timer.NewTimeout(
            _ =>
            {
                seen = local.Value;
                ran.Set();
            },
            TimeSpan.Zero);

        Assert.That(ran.Wait(s_guard), Is.True, "the timeout never ran");
        Assert.That(seen, Is.Null);
    }

    [Test]
    public void Stop_EndsTheThreadBeforeItReturns()
    {
        var timer = new HashedWheelTimer(TimeProvider.System);
        timer.NewTimeout(_ => { }, TimeSpan.FromDays(1));
        WakeUpThread wakeUp = timer.WakeUpThread!;
        Assert.That(wakeUp.IsThreadRunning, Is.True, "a pending timeout needs the thread");

        timer.Stop();

        Assert.That(wakeUp.IsThreadRunning, Is.False);
    }

    [Test]
    public void Dispose_FromTheThreadsOwnTask_DoesNotWaitForItself()
    {
        var timer = new HashedWheelTimer(TimeProvider.System);
        using var done = new ManualResetEventSlim();
        timer.NewTimeout(
            _ =>
            {
                timer.Dispose();
                done.Set();
            },
            TimeSpan.Zero);

        Assert.That(done.Wait(s_guard), Is.True, "Dispose from the wheel's own task hung");
        Assert.That(timer.WakeUpThread!.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan), Is.False, "disposed for good");
    }

    [Test]
    public void RearmedWhileTheThreadEndsOrAfter_EveryWakeUpStillComes()
    {
        // With no idle grace the thread ends as soon as a callback returns with nothing armed, so arming again races
        // its exit: either the ending thread sees the new instant and stays, or a new thread starts. Neither may lose
        // the wake-up.
        const int Rounds = 300;
        using var woke = new SemaphoreSlim(0);
        using var wakeUp = new WakeUpThread(() => woke.Release(), "test wake-up", idleExit: TimeSpan.Zero);
        for (int i = 0; i < Rounds; i++)
        {
            Assert.That(wakeUp.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan), Is.True);
            Assert.That(woke.Wait(s_guard), Is.True, $"wake-up {i} never came");
        }

        Assert.Multiple(() =>
        {
            Assert.That(wakeUp.WakeUps, Is.EqualTo(Rounds));
            Assert.That(wakeUp.ThreadsStarted, Is.InRange(2, Rounds), "the thread should have ended between some rounds");
        });
    }

    [Test]
    public void WithNothingArmed_TheThreadEndsOnItsOwn()
    {
        using var woke = new SemaphoreSlim(0);
        using var wakeUp = new WakeUpThread(() => woke.Release(), "test wake-up", idleExit: TimeSpan.Zero);
        wakeUp.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        Assert.That(woke.Wait(s_guard), Is.True);
        Thread thread = wakeUp.LastThread!;

        Assert.That(thread.Join(s_guard), Is.True, "an idle wake-up thread must end without being disposed");
        Assert.That(wakeUp.IsThreadRunning, Is.False);
    }

    [Test]
    public void OnLinux_TheThreadWaitsOnAFutex_ToTheInstantItself()
    {
        Assume.That(OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64, "futexes are used on Linux x64 and Arm64 only");
        using var wakeUp = new WakeUpThread(() => { }, "test wake-up");

        Assert.That(wakeUp.WaitsPrecisely, Is.True);
    }

    [Test]
    public void ArmedSooner_WhileParkedForAnHour_WakesAtTheSoonerInstant()
    {
        using var woke = new SemaphoreSlim(0);
        using var wakeUp = new WakeUpThread(() => woke.Release(), "test wake-up");
        wakeUp.Change(TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
        WaitUntilParked(wakeUp);

        wakeUp.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        Assert.That(woke.Wait(s_guard), Is.True, "the sooner instant must end the hour-long wait");
        Assert.That(wakeUp.WakeUps, Is.EqualTo(1));
    }

    [Test]
    public void Dispose_WhileParkedForAnHour_EndsTheThreadAtOnce()
    {
        var wakeUp = new WakeUpThread(() => { }, "test wake-up");
        wakeUp.Change(TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
        WaitUntilParked(wakeUp);
        Thread thread = wakeUp.LastThread!;

        var disposed = Task.Run(wakeUp.Dispose);

        Assert.That(disposed.Wait(s_guard), Is.True, "Dispose must wake the thread and join it");
        Assert.Multiple(() =>
        {
            Assert.That(thread.IsAlive, Is.False);
            Assert.That(wakeUp.WakeUps, Is.Zero, "disposing is not a wake-up");
        });
    }

    [Test]
    public void Futex_WaitWithASequenceAWakeHasMovedOn_ReturnsAtOnce()
    {
        Futex? futex = Futex.TryCreate();
        Assume.That(futex, Is.Not.Null, "no futex on this platform");
        int sequence = futex!.Sequence;
        futex.Wake();

        // The wake came between reading the sequence and waiting: the wait must not sleep for the hour.
        var waited = Task.Run(() => futex.Wait(sequence, Stopwatch.GetTimestamp() + (3600 * Stopwatch.Frequency)));

        Assert.That(waited.Wait(s_guard), Is.True, "a wake before the wait must not be lost");
        Assert.That(waited.Result, Is.True);
        Assert.That(futex.IsBroken, Is.False);
    }

    /// <summary>Waits (bounded by the guard) until the thread has gone to wait on the futex, where there is one.</summary>
    private static void WaitUntilParked(WakeUpThread wakeUp)
    {
        if (!wakeUp.WaitsPrecisely)
        {
            return;
        }

        var guard = Stopwatch.StartNew();
        while (!wakeUp.IsWaitingOnFutex)
        {
            Assert.That(guard.Elapsed, Is.LessThan(s_guard), "the thread never went to wait");
            Thread.Yield();
        }
    }
}
