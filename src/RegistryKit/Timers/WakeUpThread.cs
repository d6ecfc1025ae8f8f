using System.Diagnostics;

namespace RegistryKit.Timers;

/// <summary>
/// The wheel's wake-up on the system clock: one dedicated thread that sleeps until the armed instant and runs the
/// callback itself, as Netty's worker thread does.
/// </summary>
/// <remarks>
/// <para>
/// Why not a System.Threading timer: .NET's timer queue counts in <see cref="Environment.TickCount64"/>, which on Linux
/// moves in steps of the kernel tick (4 ms at HZ = 250), and it hands every callback to the thread pool, whose worker
/// then spins before it sleeps again. Measured here, that made each wake-up about 4 ms late at worst and cost about
/// 340 µs of CPU. A dedicated thread costs about 35 µs per wake-up. On Linux it waits on a <see cref="Futex"/> until
/// the instant itself and wakes about 0.1 ms after it; elsewhere it waits with <see cref="Monitor.Wait(object, int)"/>,
/// which takes whole milliseconds (rounded up, so up to 1 ms more) and on Windows is as coarse as the system timer,
/// about 15.6 ms by default (docs/benchmarks.md).
/// </para>
/// <para>
/// The thread exists only while the wheel needs it: after <see cref="HashedWheelTimerDefaults.WakeUpThreadIdleExit"/>
/// with nothing armed it ends, and the next <see cref="Change"/> starts a new one. An idle wheel therefore holds no
/// thread, and a wheel nobody disposed can still be collected once nothing is pending.
/// </para>
/// </remarks>
internal sealed class WakeUpThread : ITimer
{
    private const long NotArmed = long.MaxValue;

    private readonly Action _callback;
    private readonly string _threadName;
    private readonly long _idleExitTimestampTicks;
    private readonly object _gate = new();

    // On Linux, the thread waits on a futex, to the microsecond; elsewhere (or if the futex fails) with Monitor.Wait, in
    // whole milliseconds rounded up.
    private readonly Futex? _futex;

    // Stopwatch timestamp at which the callback is due; NotArmed when none is.
    private long _due = NotArmed;
    private Thread? _thread;
    private bool _threadRunning;
    private bool _disposed;

    // Whether the thread is waiting on the futex (outside the gate), so that an earlier instant must wake it.
    private bool _waitingOnFutex;

    public WakeUpThread(Action callback, string threadName)
        : this(callback, threadName, HashedWheelTimerDefaults.WakeUpThreadIdleExit)
    {
    }

    /// <summary>Creates the wake-up; tests shorten <paramref name="idleExit"/> to see threads come and go.</summary>
    internal WakeUpThread(Action callback, string threadName, TimeSpan idleExit)
    {
        _callback = callback;
        _threadName = threadName;
        _idleExitTimestampTicks = ToTimestampTicks(idleExit);
        _futex = Futex.TryCreate();
    }

    /// <summary>Gets whether the thread waits to the microsecond (a Linux futex) rather than in whole milliseconds.</summary>
    internal bool WaitsPrecisely => _futex is { IsBroken: false };

    /// <summary>Gets whether the thread is parked on the futex, waiting for an instant or a wake.</summary>
    internal bool IsWaitingOnFutex
    {
        get
        {
            lock (_gate)
            {
                return _waitingOnFutex;
            }
        }
    }

    /// <summary>Gets how many times the callback has run.</summary>
    public long WakeUps { get; private set; }

    /// <summary>Gets how many threads have been started over the wake-up's life.</summary>
    public int ThreadsStarted { get; private set; }

    /// <summary>Gets the thread started last (running or ended); <see langword="null"/> before the first.</summary>
    internal Thread? LastThread
    {
        get
        {
            lock (_gate)
            {
                return _thread;
            }
        }
    }

    /// <summary>Gets whether a thread is running (waiting for the armed instant, or for the idle exit).</summary>
    public bool IsThreadRunning
    {
        get
        {
            lock (_gate)
            {
                return _threadRunning;
            }
        }
    }

    /// <summary>Arms the wake-up once after <paramref name="dueTime"/>, or disarms it; <paramref name="period"/> must be infinite.</summary>
    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        Debug.Assert(period == Timeout.InfiniteTimeSpan, "The wheel arms one wake-up at a time.");
        long due = dueTime == Timeout.InfiniteTimeSpan ? NotArmed : Stopwatch.GetTimestamp() + ToTimestampTicks(dueTime);
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            bool sooner = due < _due;
            _due = due;
            if (!_threadRunning)
            {
                if (due != NotArmed)
                {
                    StartThreadLocked();
                }
            }
            else if (sooner)
            {
                WakeLocked();
            }
        }

        return true;
    }

    /// <summary>
    /// Disarms the wake-up for good and waits for its thread to end (a callback under way finishes first), unless
    /// called from that thread's own callback.
    /// </summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            _disposed = true;
            _due = NotArmed;
            thread = _threadRunning ? _thread : null;
            WakeLocked();
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    private void StartThreadLocked()
    {
        // UnsafeStart: the thread must not carry the ExecutionContext (AsyncLocals) of whoever armed it first.
        var thread = new Thread(static state => ((WakeUpThread)state!).Run())
        {
            IsBackground = true,
            Name = _threadName,
        };
        thread.UnsafeStart(this);
        _thread = thread;
        _threadRunning = true;
        ThreadsStarted++;
    }

    private void Run()
    {
        long idleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (_gate)
            {
                while (true)
                {
                    long now = Stopwatch.GetTimestamp();
                    if (_disposed || (_due == NotArmed && now - idleSince >= _idleExitTimestampTicks))
                    {
                        _threadRunning = false;
                        return;
                    }

                    if (_due <= now)
                    {
                        _due = NotArmed;
                        WakeUps++;
                        break;
                    }

                    long until = _due == NotArmed ? idleSince + _idleExitTimestampTicks : _due;
                    if (_futex is { IsBroken: false } futex)
                    {
                        // To the instant itself, outside the gate; the sequence read under it means a Change or Dispose
                        // that comes before the wait starts still ends it.
                        int sequence = futex.Sequence;
                        _waitingOnFutex = true;
                        Monitor.Exit(_gate);
                        try
                        {
                            futex.Wait(sequence, until);
                        }
                        finally
                        {
                            Monitor.Enter(_gate);
                            _waitingOnFutex = false;
                        }

                        continue;
                    }

                    // Whole milliseconds, rounded up: the wait never ends before the instant asked for, and a wake-up
                    // that comes a little early (a pulse, a spurious one) goes round the loop and waits again.
                    Monitor.Wait(_gate, ToWaitMilliseconds(until - now));
                }
            }

            _callback();
            idleSince = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Ends the thread's current wait, on the futex or the monitor. Under the gate.</summary>
    private void WakeLocked()
    {
        if (_waitingOnFutex)
        {
            _futex!.Wake();
        }
        else
        {
            Monitor.Pulse(_gate);
        }
    }

    private static long ToTimestampTicks(TimeSpan span) =>
        (long)Math.Ceiling(span.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond));

    private static int ToWaitMilliseconds(long timestampTicks)
    {
        double ms = Math.Ceiling(timestampTicks * 1000.0 / Stopwatch.Frequency);
        return (int)Math.Clamp(ms, 1, int.MaxValue - 1);
    }
}
