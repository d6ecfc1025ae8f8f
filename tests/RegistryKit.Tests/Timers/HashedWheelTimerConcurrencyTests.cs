using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Timers;

/// <summary>
/// The wheel's lock under racing threads, and clocks whose timers call back from inside <c>Change</c>. Time is virtual;
/// the threads are real and bounded by a deadlock guard.
/// </summary>
public class HashedWheelTimerConcurrencyTests
{
    private static readonly TimeSpan s_guard = TimeSpan.FromSeconds(60);

    [Test]
    public void RacingThreads_ScheduleCancelAndExpire_EveryTimeoutRunsOnceOrIsCancelled_AndTheCountStaysExact()
    {
        const int Threads = 4;
        const int PerThread = 50_000;
        var time = new ManualTimeProvider();
        using var timer = new HashedWheelTimer(time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(1), WheelSize = 64 });
        var runs = new int[Threads * PerThread];
        var cancelled = new bool[Threads * PerThread];
        using var stop = new CancellationTokenSource();

        // One thread moves the clock (so passes expire timeouts while the others schedule and cancel); the others each
        // schedule their share and cancel every third one.
        Task clock = Task.Factory.StartNew(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    time.Advance(TimeSpan.FromMilliseconds(1));
                }
            },
            TaskCreationOptions.LongRunning);
        Task[] workers = [.. Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(t);
                for (int i = 0; i < PerThread; i++)
                {
                    int id = (t * PerThread) + i;
                    WheelTimeout timeout = timer.NewTimeout(_ => Interlocked.Increment(ref runs[id]), TimeSpan.FromMilliseconds(random.Next(0, 200)));
                    if (i % 3 == 0)
                    {
                        cancelled[id] = timeout.Cancel();
                    }
                }
            },
            TaskCreationOptions.LongRunning))];

        Assert.That(Task.WaitAll(workers, s_guard), Is.True, "the schedulers deadlocked");
        stop.Cancel();
        Assert.That(clock.Wait(s_guard), Is.True, "the clock thread deadlocked");

        // Every timeout left is at most 200 ms away: run them all.
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Multiple(() =>
        {
            Assert.That(timer.PendingTimeouts, Is.Zero);
            for (int id = 0; id < runs.Length; id++)
            {
                Assert.That(runs[id], Is.EqualTo(cancelled[id] ? 0 : 1), $"timeout {id} (cancelled: {cancelled[id]})");
            }
        });
    }

    [Test]
    public void ClockWhoseTimersCallBackFromChange_NeitherDeadlocksNorLosesATimeout()
    {
        // FakeTimeProvider (Microsoft.Extensions.TimeProvider.Testing) runs a timer's callback inside Change when the
        // timer is already due, and can advance itself on every read. The wheel changes its wake-up outside its own
        // lock, so such a clock re-enters the wheel without deadlocking it.
        var time = new SynchronousTimeProvider { AutoAdvance = TimeSpan.FromMilliseconds(15) };
        using var timer = new HashedWheelTimer(time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
        int runs = 0;
        int nested = 0;

        var work = Task.Run(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                timer.NewTimeout(
                    _ =>
                    {
                        Interlocked.Increment(ref runs);

                        // A task that schedules more from inside the synchronous callback.
                        if (Interlocked.Increment(ref nested) <= 10)
                        {
                            timer.NewTimeout(_ => Interlocked.Increment(ref runs), TimeSpan.Zero);
                        }
                    },
                    TimeSpan.Zero);
            }

            // Whatever is still pending is due by now; one more wake-up runs it.
            time.FireDue();
        });

        Assert.That(work.Wait(s_guard), Is.True, "the wheel deadlocked on a clock that calls back from Change");
        Assert.Multiple(() =>
        {
            Assert.That(runs, Is.EqualTo(110));
            Assert.That(timer.PendingTimeouts, Is.Zero);
            Assert.That(time.SynchronousCallbacks, Is.Positive, "the clock never called back from inside Change: the test proves nothing");
        });
    }

    /// <summary>A clock that moves by <see cref="AutoAdvance"/> on every read and runs a due timer inside Change.</summary>
    private sealed class SynchronousTimeProvider : TimeProvider
    {
        private readonly Lock _lock = new();
        private readonly List<SyncTimer> _timers = [];
        private long _now;

        public TimeSpan AutoAdvance { get; init; }

        public int SynchronousCallbacks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp()
        {
            lock (_lock)
            {
                _now += AutoAdvance.Ticks;
                return _now;
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var created = new SyncTimer(this, callback, state);
            lock (_lock)
            {
                _timers.Add(created);
            }

            created.Change(dueTime, period);
            return created;
        }

        /// <summary>Runs every timer whose instant has passed, until none is due.</summary>
        public void FireDue()
        {
            while (true)
            {
                SyncTimer? due;
                lock (_lock)
                {
                    due = _timers.FirstOrDefault(t => t.Due <= _now);
                    due?.Disarm();
                }

                if (due is null)
                {
                    return;
                }

                due.Run();
            }
        }

        private long Now()
        {
            lock (_lock)
            {
                return _now;
            }
        }

        private sealed class SyncTimer(SynchronousTimeProvider owner, TimerCallback callback, object? state) : ITimer
        {
            public long Due { get; private set; } = long.MaxValue;

            public void Disarm() => Due = long.MaxValue;

            public void Run() => callback(state);

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    Due = long.MaxValue;
                    return true;
                }

                if (dueTime <= TimeSpan.Zero)
                {
                    Due = long.MaxValue;
                    Interlocked.Increment(ref owner.SynchronousCallbacks);
                    callback(state);
                    return true;
                }

                Due = owner.Now() + dueTime.Ticks;
                return true;
            }

            public void Dispose() => Due = long.MaxValue;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return default;
            }
        }
    }
}
