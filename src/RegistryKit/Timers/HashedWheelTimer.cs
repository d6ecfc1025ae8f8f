using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RegistryKit.Internal;

namespace RegistryKit.Timers;

/// <summary>
/// A hashed wheel timer: schedules very many timeouts cheaply, at the price of firing each up to one tick late.
/// Every retry and heartbeat in RegistryKit runs on one; share one instance per process (and per
/// <see cref="TimeProvider"/>).
/// </summary>
/// <remarks>
/// <para>
/// Scheduling and cancelling are O(1) and, once the timer has warmed up, allocate nothing: timeouts live in pooled
/// nodes, and <see cref="WheelTimeout"/> is a value. A timeout never fires before its delay has passed.
/// </para>
/// <para>
/// All time comes from the <see cref="TimeProvider"/>: under a manual one the timer is deterministic. The timer
/// arms one wake-up at a time, at the next tick whose bucket holds a timeout, and none while nothing is pending, so
/// an idle timer costs no CPU (Netty's and Dubbo's wake every tick forever). On <see cref="TimeProvider.System"/> the
/// wake-up is a background thread of the timer's own (named "RegistryKit wheel", gone a second after nothing is
/// armed), which on Linux wakes within a fraction of a millisecond of the instant asked for; on any other clock it is
/// one of the provider's timers.
/// </para>
/// <para>
/// A task that throws is logged and the wheel carries on. Tasks run one after another on the wheel's wake-up
/// unless <see cref="HashedWheelTimerOptions.TaskScheduler"/> hands them to a scheduler.
/// </para>
/// </remarks>
public sealed partial class HashedWheelTimer : IDisposable
{
    private const long StateMask = 3;
    private const long StateCancelled = 1;
    private const long StateExpired = 2;
    private const long GenerationIncrement = 4;

    // System.Threading timers reject waits above 0xFFFFFFFE ms (about 49.7 days). Waking earlier is harmless: the
    // pass finds nothing due and arms again.
    private static readonly long s_maxWakeDelayTicks = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0).Ticks;

    private static readonly double s_ticksPerStopwatchTick = (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency;

    // On Linux and macOS Stopwatch counts nanoseconds: a division by the constant 100, which the JIT turns into a
    // multiplication, converts its readings exactly and without the floating-point round trip.
    private static readonly bool s_stopwatchCountsNanoseconds = Stopwatch.Frequency == 1_000_000_000;
    private const long NanosecondsPerTick = 100;

    private static int s_liveInstances;

    [ThreadStatic]
    private static HashedWheelTimer? s_runningTasksOf;

    // One lock guards the buckets, the free list, the counters and the wanted wake-up. Schedule and cancel hold it for
    // a few dozen nanoseconds; a pass holds it while it detaches a chunk of due nodes, never while tasks run. It is a
    // spin lock (SpinGate): System.Threading.Lock's owner bookkeeping cost more than the sections it guarded
    // (docs/benchmarks.md). It is not reentrant, so nothing that could call back into the wheel runs under it: the
    // wake-up is changed afterwards, under _armGate (see ApplyArm).
    private SpinGate _gate;

    // Serialises changes of the wake-up timer, which happen outside the spin lock because a TimeProvider's timer may
    // call back synchronously from Change (FakeTimeProvider does for a zero delay).
    private readonly object _armGate = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly TimeoutNode?[] _buckets;
    private readonly int _mask;
    private readonly int _shift;
    private readonly long _tickTicks;
    private readonly TickDivisor _perTick;
    private readonly long _maxDelayTicks;
    private readonly long _maxPending;
    private readonly TaskScheduler? _taskScheduler;
    private readonly long _startTimestamp;
    private readonly ITimer _wakeUp;
    private readonly bool _systemClock;

    private long _lastTick;

    // New timeouts wait here, in schedule order, until the next pass places them in their buckets (as Netty's queue of
    // new timeouts does): appending touches only the previous new node, still in cache, where linking into a bucket
    // touches its old tail. While here a node's Rounds holds its due tick minus _incomingBase.
    private readonly TimeoutNode _incoming = NewSentinel();
    private long _incomingBase;

    // The due bucket a pass is expiring a chunk at a time, moved aside so that a cancel can still unlink its nodes and a
    // new timeout a revolution away joins the bucket instead; and how many nodes a chunk takes.
    private readonly TimeoutNode _draining = NewSentinel();
    private const int DrainChunk = 256;

    // New timeouts found already due when they were placed (after a pass had moved past their tick), expired and
    // waiting, linked by Next, for the pass under way to run them.
    private TimeoutNode? _overdue;
    private TimeoutNode? _overdueTail;

    // The wake-up the wheel wants (a tick, or long.MaxValue for none), and a version bumped with every change of it.
    // ApplyArm hands the latest to the timer; _appliedArmVersion (under _armGate) is the version the timer has.
    private long _armedTick = long.MaxValue;
    private bool _armWokeEarly;
    private long _armVersion;
    private long _appliedArmVersion;
    private bool _armClosed;
    private long _pending;
    private TimeoutNode? _free;
    private int _freeCount;

    // The node of the task a pass ran last, retired and kept for the next task's own re-arm (a heartbeat scheduling
    // its next beat), which then reuses a node still in cache instead of one pooled a whole pass ago. Only the thread
    // running a pass's tasks inline reads or writes it (RunExpired, and Schedule called from one of those tasks).
    private TimeoutNode? _spare;
    private bool _stopped;
    private int _workerRequests;
    private int _runningOnScheduler;

    /// <summary>Creates a timer with the default settings on the system clock.</summary>
    public HashedWheelTimer()
        : this(TimeProvider.System)
    {
    }

    /// <summary>Creates a timer.</summary>
    /// <param name="timeProvider">The clock and the source of the timer's single wake-up timer.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="logger">Where task failures and warnings go; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it and the range.</exception>
    public HashedWheelTimer(TimeProvider timeProvider, HashedWheelTimerOptions? options = null, ILogger<HashedWheelTimer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        options ??= new HashedWheelTimerOptions();
        ValidateOptions(options);

        _timeProvider = timeProvider;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        int wheelSize = (int)BitOperations.RoundUpToPowerOf2((uint)options.WheelSize);
        _shift = BitOperations.Log2((uint)wheelSize);
        _mask = wheelSize - 1;
        // A bucket's sentinel is made the first time a timeout lands in it: an 8,192-bucket wheel costs 64 KiB up front,
        // and only the buckets in use cost more.
        _buckets = new TimeoutNode?[wheelSize];

        _tickTicks = options.TickDuration.Ticks;
        _perTick = new TickDivisor(_tickTicks);
        _maxDelayTicks = ComputeMaxDelayTicks(_tickTicks, wheelSize);
        _maxPending = options.MaxPendingTimeouts == 0 ? long.MaxValue : options.MaxPendingTimeouts;
        _taskScheduler = options.TaskScheduler;
        TickDuration = options.TickDuration;
        WheelSize = wheelSize;

        // The wake-up timer must not capture the creator's ExecutionContext (its AsyncLocals would leak into
        // every task for the life of the process).
        bool restoreFlow = !ExecutionContext.IsFlowSuppressed();
        if (restoreFlow)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            // On the system clock the wheel wakes on a thread of its own (on Linux, within a fraction of a
            // millisecond); any other clock (a manual one in tests) drives it through its own timers.
            _systemClock = ReferenceEquals(timeProvider, TimeProvider.System);
            _wakeUp = _systemClock
                ? new WakeUpThread(OnWakeUp, HashedWheelTimerDefaults.WakeUpThreadName)
                : timeProvider.CreateTimer(static state => ((HashedWheelTimer)state!).OnWakeUp(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (restoreFlow)
            {
                ExecutionContext.RestoreFlow();
            }
        }

        _startTimestamp = timeProvider.GetTimestamp();
        int live = Interlocked.Increment(ref s_liveInstances);
        if (live > HashedWheelTimerDefaults.InstanceWarningThreshold)
        {
            Log.TooManyInstances(_logger, live, HashedWheelTimerDefaults.InstanceWarningThreshold);
        }
    }

    /// <summary>Gets the duration of one tick.</summary>
    public TimeSpan TickDuration { get; }

    /// <summary>Gets the number of buckets (a power of two).</summary>
    public int WheelSize { get; }

    /// <summary>Gets the longest delay <see cref="NewTimeout(ITimerTask, TimeSpan)"/> accepts.</summary>
    public TimeSpan MaxDelay => TimeSpan.FromTicks(_maxDelayTicks);

    /// <summary>Gets the number of timeouts waiting to expire (exact: cancelled, expired and rejected ones are not counted).</summary>
    public long PendingTimeouts => Volatile.Read(ref _pending);

    /// <summary>Gets the number of timers created and not yet stopped in this process.</summary>
    internal static int LiveInstances => Volatile.Read(ref s_liveInstances);

    /// <summary>Gets the wheel's wake-up thread on the system clock; <see langword="null"/> on any other clock.</summary>
    internal WakeUpThread? WakeUpThread => _wakeUp as WakeUpThread;

    /// <summary>Gets the number of free nodes kept for reuse.</summary>
    internal int PooledNodes
    {
        get
        {
            Enter();
            try
            {
                return _freeCount;
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <summary>Schedules <paramref name="task"/> to run once after <paramref name="delay"/>.</summary>
    /// <param name="task">The task; one instance may be scheduled any number of times.</param>
    /// <param name="delay">How long to wait; zero runs the task at the next tick.</param>
    /// <returns>The handle to cancel the timeout or ask where it stands.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="task"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or above <see cref="MaxDelay"/>.</exception>
    /// <exception cref="TimeoutRejectedException">As many timeouts are pending as <see cref="HashedWheelTimerOptions.MaxPendingTimeouts"/> allows.</exception>
    /// <exception cref="ObjectDisposedException">The timer was stopped.</exception>
    public WheelTimeout NewTimeout(ITimerTask task, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Schedule(task, delay, ElapsedTicks());
    }

    /// <summary>Schedules <paramref name="callback"/> to run once after <paramref name="delay"/>.</summary>
    /// <param name="callback">The callback. Reuse one delegate instance to keep scheduling free of allocations.</param>
    /// <param name="delay">How long to wait; zero runs the callback at the next tick.</param>
    /// <returns>The handle to cancel the timeout or ask where it stands.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or above <see cref="MaxDelay"/>.</exception>
    /// <exception cref="TimeoutRejectedException">As many timeouts are pending as <see cref="HashedWheelTimerOptions.MaxPendingTimeouts"/> allows.</exception>
    /// <exception cref="ObjectDisposedException">The timer was stopped.</exception>
    public WheelTimeout NewTimeout(Action<WheelTimeout> callback, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(callback, delay, ElapsedTicks());
    }

    /// <summary>
    /// Schedules <paramref name="task"/> as <see cref="NewTimeout(ITimerTask, TimeSpan)"/> does, from the caller's own
    /// reading of the timer's clock: a hot path that has just read it saves a second read.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="delay">How long after <paramref name="timestamp"/> to run it.</param>
    /// <param name="timestamp">A <see cref="TimeProvider.GetTimestamp"/> of <see cref="TimeProvider"/>, taken by the caller just now.</param>
    internal WheelTimeout NewTimeout(ITimerTask task, TimeSpan delay, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Schedule(task, delay, ElapsedTicksAt(timestamp));
    }

    /// <summary>Gets the clock the timer reads.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>
    /// Stops the timer: cancels every pending timeout and returns their handles. Tasks already started finish before
    /// this returns, and nothing runs afterwards: with a <see cref="HashedWheelTimerOptions.TaskScheduler"/>, a task
    /// that was queued to it but had not started never runs. A second call returns an empty list.
    /// </summary>
    /// <returns>The timeouts that had not expired, now cancelled.</returns>
    /// <exception cref="InvalidOperationException">Called from one of this timer's own tasks.</exception>
    public IReadOnlyList<WheelTimeout> Stop()
    {
        if (s_runningTasksOf == this)
        {
            ThrowStopFromTask();
        }

        return StopCore(waitForRunningTasks: true);
    }

    /// <summary>
    /// Stops the timer, as <see cref="Stop"/> does. From one of the timer's own tasks it stops the timer without
    /// waiting for that task, instead of throwing.
    /// </summary>
    public void Dispose() => StopCore(waitForRunningTasks: s_runningTasksOf != this);

    /// <summary>Cancels every timeout of one list for <see cref="Stop"/>, adding its handle to <paramref name="unprocessed"/>. Under the lock.</summary>
    private void CancelAllLocked(TimeoutNode sentinel, List<WheelTimeout> unprocessed)
    {
        TimeoutNode node = sentinel.Next!;
        while (node != sentinel)
        {
            TimeoutNode next = node.Next!;
            long stamp = node.Stamp;
            Volatile.Write(ref node.Stamp, stamp | StateCancelled);
            unprocessed.Add(new WheelTimeout(this, node, stamp));

            // A handle kept by a caller must not hold its task or the rest of the bucket alive.
            node.Task = null;
            node.Next = null;
            node.Prev = null;
            node = next;
        }

        sentinel.Next = sentinel;
        sentinel.Prev = sentinel;
    }

    private List<WheelTimeout> StopCore(bool waitForRunningTasks)
    {
        List<WheelTimeout> unprocessed = [];
        bool stoppedNow = false;
        Enter();
        try
        {
            if (!_stopped)
            {
                _stopped = true;
                stoppedNow = true;
                unprocessed = new List<WheelTimeout>((int)Math.Min(_pending, 1 << 20));
                CancelAllLocked(_incoming, unprocessed);
                CancelAllLocked(_draining, unprocessed);
                foreach (TimeoutNode? sentinel in _buckets)
                {
                    if (sentinel is not null)
                    {
                        CancelAllLocked(sentinel, unprocessed);
                    }
                }

                Volatile.Write(ref _pending, 0);
                _free = null;
                _freeCount = 0;
            }
        }
        finally
        {
            Exit();
        }

        if (stoppedNow)
        {
            // No change of the wake-up may reach the timer once it is being disposed.
            lock (_armGate)
            {
                _armClosed = true;
            }

            _wakeUp.Dispose();
            Interlocked.Decrement(ref s_liveInstances);
        }

        if (waitForRunningTasks)
        {
            // A pass already under way, or tasks already started on the scheduler, finish before Stop returns, so
            // nothing runs afterwards. Every caller waits, not only the first.
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _workerRequests) != 0 || Volatile.Read(ref _runningOnScheduler) != 0)
            {
                spinner.SpinOnce();
            }
        }

        return unprocessed;
    }

    internal bool Cancel(TimeoutNode node, long stamp)
    {
        Enter();
        try
        {
            // A stale handle (the node was reused) or a timeout no longer pending has a different stamp.
            if (node.Stamp != stamp)
            {
                return false;
            }

            Unlink(node);
            Volatile.Write(ref _pending, _pending - 1);
            Volatile.Write(ref node.Stamp, stamp | StateCancelled);
            Recycle(node);
        }
        finally
        {
            Exit();
        }

        return true;
    }

    private WheelTimeout Schedule(object task, TimeSpan delay, long now)
    {
        long delayTicks = delay.Ticks;
        if ((ulong)delayTicks > (ulong)_maxDelayTicks)
        {
            ThrowDelayOutOfRange(delay);
        }

        long dueTick = _perTick.Divide(now + delayTicks + _tickTicks - 1);
        TimeoutNode node;
        long stamp;
        bool rearm = false;
        Enter();
        try
        {
            if (_stopped)
            {
                ThrowStopped();
            }

            if (_pending >= _maxPending)
            {
                ThrowRejected();
            }

            if (_pending == 0)
            {
                // Nothing is in the buckets, so the wheel may skip the ticks it slept through. This keeps the round
                // count of a new timeout small however long the timer was idle.
                long nowTick = _perTick.Divide(now);
                if (nowTick > _lastTick)
                {
                    _lastTick = nowTick;
                }
            }

            if (dueTick <= _lastTick)
            {
                dueTick = _lastTick + 1;
            }

            bool ownTask = s_runningTasksOf == this;
            if (ownTask && _spare is not null)
            {
                node = _spare;
                _spare = null;
            }
            else
            {
                node = _free ?? new TimeoutNode();
                if (_free is not null)
                {
                    _free = node.Next;
                    _freeCount--;
                }
            }

            node.Task = task;
            if (ownTask)
            {
                // A task of this wheel (a heartbeat re-arming itself) places its timeout at once: the node and the
                // bucket are in cache now and would not be at the next pass. The new ones go first, so that a bucket
                // stays in schedule order.
                PlaceIncomingLocked();
                PlaceLocked(node, dueTick);
            }
            else
            {
                if (_incoming.Next == _incoming)
                {
                    _incomingBase = _lastTick;
                }

                // The base is a tick the wheel has passed, so the offset is positive; one too large for an int (a
                // delay of years) goes straight to its bucket.
                long offset = dueTick - _incomingBase;
                if (offset <= int.MaxValue)
                {
                    node.Rounds = (int)offset;
                    Append(_incoming, node);
                }
                else
                {
                    PlaceLocked(node, dueTick);
                }
            }

            stamp = node.Stamp;
            Volatile.Write(ref _pending, _pending + 1);
            if (dueTick < _armedTick)
            {
                WantWakeUpLocked(dueTick, wokeEarly: false);
                rearm = true;
            }
        }
        finally
        {
            Exit();
        }

        if (rearm)
        {
            ApplyArm();
        }

        return new WheelTimeout(this, node, stamp);
    }

    private void OnWakeUp()
    {
        // Wake-ups may overlap (a re-armed system timer can fire while a pass is running): one pass at a time,
        // and a pass that saw others arrive goes round again.
        if (Interlocked.Increment(ref _workerRequests) != 1)
        {
            return;
        }

        int observed = 1;
        do
        {
            try
            {
                RunDuePass();
            }
            catch (Exception exception) when (TryLogPassFailure(exception))
            {
                // Logged; the next wake-up carries on. An exception must not escape a timer callback (on the system
                // clock it would end the process) nor leave the gate closed for good.
            }
        }
        while ((observed = Interlocked.Add(ref _workerRequests, -observed)) != 0);
    }

    /// <summary>
    /// One pass: expires what is due and runs it, so that the first task waits for as little walking as it can. When
    /// the pass is one tick on (the usual case), the due bucket is moved aside and expired a chunk at a time, each chunk
    /// run before the next is walked; then come the due new timeouts at the head of their list (with equal delays, all
    /// the due ones). Last, the rest of the new timeouts are placed, any of them already due run, and the next wake-up
    /// is armed.
    /// </summary>
    private void RunDuePass()
    {
        long now = ElapsedTicks();
        long currentTick = _perTick.Divide(now);
        bool wokeEarly = false;
        bool first = true;
        bool advanced = false;
        TimeoutNode? draining = null;
        while (true)
        {
            TimeoutNode? expired = null;
            TimeoutNode? expiredTail = null;
            Enter();
            try
            {
                if (_stopped)
                {
                    // Stop cancelled whatever was still waiting, the bucket being drained included.
                    if (first)
                    {
                        return;
                    }

                    break;
                }

                long expiredCount = 0;
                if (first)
                {
                    first = false;
                    wokeEarly = currentTick < _armedTick && _armedTick != long.MaxValue;
                    if (currentTick > _lastTick)
                    {
                        advanced = true;
                        long gap = currentTick - _lastTick;
                        if (gap == 1)
                        {
                            draining = StartDrainLocked(_buckets[currentTick & _mask]);
                        }
                        else if (gap < _buckets.Length)
                        {
                            for (long tick = _lastTick + 1; tick <= currentTick; tick++)
                            {
                                expiredCount += ExpireBucket(_buckets[tick & _mask], 1, ref expired, ref expiredTail);
                            }
                        }
                        else
                        {
                            // Slept through whole revolutions (a paused process, a big jump of a manual clock): each
                            // bucket is visited once, its nodes aged by every revolution that passed over it.
                            for (long tick = _lastTick + 1; tick <= _lastTick + _buckets.Length; tick++)
                            {
                                long passes = ((currentTick - tick) >> _shift) + 1;
                                expiredCount += ExpireBucket(_buckets[tick & _mask], passes, ref expired, ref expiredTail);
                            }
                        }

                        // From here on a new timeout is due after this tick, so it never lands in a bucket this pass
                        // still has to visit (only one bucket is drained in chunks, and a new timeout a revolution
                        // away that lands in it joins the bucket, not the nodes being drained).
                        _lastTick = currentTick;
                    }
                }

                if (draining is not null)
                {
                    expiredCount += DrainChunkLocked(draining, ref expired, ref expiredTail);
                    if (_draining.Next == _draining)
                    {
                        draining = null;
                    }
                }

                if (draining is null && advanced)
                {
                    // A chunk at a time too; the head is done at its first timeout not yet due.
                    expiredCount += ExpireDueIncomingHeadLocked(ref expired, ref expiredTail, out bool headDone);
                    advanced = !headDone;
                }

                if (expiredTail is not null)
                {
                    expiredTail.Next = null;
                }

                Volatile.Write(ref _pending, _pending - expiredCount);
            }
            finally
            {
                Exit();
            }

            if (expired is not null)
            {
                RunExpired(expired);
            }

            if (draining is null && !advanced)
            {
                break;
            }
        }

        // Every pass places the rest of the new timeouts before it arms, so that the buckets (which the next wake-up is
        // chosen from) hold every pending timeout.
        TimeoutNode? overdue;
        bool rearm = false;
        Enter();
        try
        {
            if (!_stopped)
            {
                PlaceIncomingLocked();
                rearm = ArmNextLocked(currentTick, wokeEarly);
            }

            // Taken even after a Stop: these are expired already, and an expired timeout's task runs.
            overdue = _overdue;
            if (_overdueTail is not null)
            {
                _overdueTail.Next = null;
            }

            _overdue = null;
            _overdueTail = null;
        }
        finally
        {
            Exit();
        }

        if (rearm)
        {
            ApplyArm();
        }

        if (overdue is not null)
        {
            RunExpired(overdue);
        }
    }

    /// <summary>
    /// Moves the nodes of a due bucket aside, to <see cref="_draining"/>, to be expired a chunk at a time. Returns the
    /// bucket, or <see langword="null"/> when it has nothing. Under the lock.
    /// </summary>
    private TimeoutNode? StartDrainLocked(TimeoutNode? sentinel)
    {
        if (sentinel is null || sentinel.Next == sentinel)
        {
            return null;
        }

        _draining.Next = sentinel.Next;
        _draining.Prev = sentinel.Prev;
        _draining.Next!.Prev = _draining;
        _draining.Prev!.Next = _draining;
        sentinel.Next = sentinel;
        sentinel.Prev = sentinel;
        return sentinel;
    }

    /// <summary>
    /// Expires up to <see cref="DrainChunk"/> nodes from the head of <see cref="_draining"/> into the chain; those a
    /// revolution or more away go back to <paramref name="bucket"/>, a revolution nearer. Under the lock.
    /// </summary>
    private long DrainChunkLocked(TimeoutNode bucket, ref TimeoutNode? expired, ref TimeoutNode? expiredTail)
    {
        long count = 0;
        TimeoutNode node = _draining.Next!;
        for (int walked = 0; node != _draining && walked < DrainChunk; walked++)
        {
            TimeoutNode next = node.Next!;
            if (node.Rounds < 1)
            {
                ExpireInto(node, ref expired, ref expiredTail);
                count++;
            }
            else
            {
                node.Rounds--;
                Append(bucket, node);
            }

            node = next;
        }

        _draining.Next = node;
        node.Prev = _draining;
        return count;
    }

    /// <summary>
    /// Moves up to <see cref="DrainChunk"/> of the new timeouts at the head of their list that are due by
    /// <see cref="_lastTick"/> to the end of the expired chain; <paramref name="done"/> tells whether it reached one
    /// that is not due, or the end (the rest are placed after the run). Under the lock.
    /// </summary>
    private long ExpireDueIncomingHeadLocked(ref TimeoutNode? expired, ref TimeoutNode? expiredTail, out bool done)
    {
        long count = 0;
        TimeoutNode node = _incoming.Next!;
        while (node != _incoming && _incomingBase + node.Rounds <= _lastTick && count < DrainChunk)
        {
            TimeoutNode next = node.Next!;
            ExpireInto(node, ref expired, ref expiredTail);
            count++;
            node = next;
        }

        _incoming.Next = node;
        node.Prev = _incoming;
        done = count < DrainChunk;
        return count;
    }

    /// <summary>Marks <paramref name="node"/> expired and appends it to a chain (its Next is left for the caller to set).</summary>
    private static void ExpireInto(TimeoutNode node, ref TimeoutNode? head, ref TimeoutNode? tail)
    {
        Volatile.Write(ref node.Stamp, node.Stamp | StateExpired);
        node.Prev = null;
        if (tail is null)
        {
            head = node;
        }
        else
        {
            tail.Next = node;
        }

        tail = node;
    }

    /// <summary>Places the new timeouts in their buckets, in schedule order. Under the lock.</summary>
    private void PlaceIncomingLocked()
    {
        TimeoutNode node = _incoming.Next!;
        if (node == _incoming)
        {
            return;
        }

        _incoming.Next = _incoming;
        _incoming.Prev = _incoming;
        long overdueCount = 0;
        while (node != _incoming)
        {
            TimeoutNode next = node.Next!;
            long dueTick = _incomingBase + node.Rounds;
            if (dueTick <= _lastTick)
            {
                // A pass has moved past its tick since it was scheduled (it was not at the head of the list when the
                // pass took the due ones): it is due, and that pass runs it.
                ExpireInto(node, ref _overdue, ref _overdueTail);
                overdueCount++;
            }
            else
            {
                PlaceLocked(node, dueTick);
            }

            node = next;
        }

        if (overdueCount > 0)
        {
            Volatile.Write(ref _pending, _pending - overdueCount);
        }
    }

    /// <summary>Links <paramref name="node"/> at the tail of the bucket of <paramref name="dueTick"/> (after <see cref="_lastTick"/>). Under the lock.</summary>
    private void PlaceLocked(TimeoutNode node, long dueTick)
    {
        node.Rounds = (int)Math.Min((dueTick - _lastTick - 1) >> _shift, int.MaxValue);
        Append(_buckets[dueTick & _mask] ??= NewSentinel(), node);
    }

    private static void Append(TimeoutNode sentinel, TimeoutNode node)
    {
        TimeoutNode tail = sentinel.Prev!;
        node.Prev = tail;
        node.Next = sentinel;
        tail.Next = node;
        sentinel.Prev = node;
    }

    private static TimeoutNode NewSentinel()
    {
        var sentinel = new TimeoutNode();
        sentinel.Next = sentinel;
        sentinel.Prev = sentinel;
        return sentinel;
    }

    /// <summary>
    /// Moves the due nodes of one bucket to the end of the expired chain (its last node's Next is left for the caller
    /// to clear) and ages the others. One walk that rebuilds the bucket from the nodes that stay, rather than
    /// unlinking each due node from its neighbours: the walk is what delays the first task of a full bucket.
    /// </summary>
    private static long ExpireBucket(TimeoutNode? sentinel, long passes, ref TimeoutNode? expired, ref TimeoutNode? expiredTail)
    {
        if (sentinel is null || sentinel.Next == sentinel)
        {
            return 0;
        }

        long count = 0;
        TimeoutNode kept = sentinel;
        TimeoutNode node = sentinel.Next!;
        while (node != sentinel)
        {
            TimeoutNode next = node.Next!;
            if (node.Rounds < passes)
            {
                ExpireInto(node, ref expired, ref expiredTail);
                count++;
            }
            else
            {
                node.Rounds -= (int)passes;
                if (node.Prev != kept)
                {
                    kept.Next = node;
                    node.Prev = kept;
                }

                kept = node;
            }

            node = next;
        }

        kept.Next = sentinel;
        sentinel.Prev = kept;
        return count;
    }

    /// <summary>Picks the next wake-up after a pass. Under the lock; true when <see cref="ApplyArm"/> must follow.</summary>
    private bool ArmNextLocked(long currentTick, bool wokeEarly)
    {
        if (_pending == 0)
        {
            // The wake-up that ran this pass is spent; only one still set for later needs cancelling.
            bool cancel = _armedTick != long.MaxValue && _armedTick > currentTick;
            if (cancel)
            {
                WantWakeUpLocked(long.MaxValue, wokeEarly: false);
            }
            else
            {
                _armedTick = long.MaxValue;
            }

            return cancel;
        }

        long limit = Math.Min(_buckets.Length, HashedWheelTimerDefaults.WakeScanLimit);
        long wakeTick = currentTick + limit;
        for (long tick = currentTick + 1; tick < currentTick + limit; tick++)
        {
            TimeoutNode? sentinel = _buckets[tick & _mask];
            if (sentinel is not null && sentinel.Next != sentinel)
            {
                wakeTick = tick;
                break;
            }
        }

        WantWakeUpLocked(wakeTick, wokeEarly);
        return true;
    }

    /// <summary>Records the wake-up the wheel wants. Under the lock; <see cref="ApplyArm"/> must follow once it is released.</summary>
    private void WantWakeUpLocked(long tick, bool wokeEarly)
    {
        _armedTick = tick;
        _armWokeEarly = wokeEarly;
        _armVersion++;
    }

    /// <summary>
    /// Hands the wake-up the wheel wants now to the timer. Every change of it is followed by a call, and each call
    /// applies the latest, so the last change always reaches the timer even when callers race.
    /// </summary>
    private void ApplyArm()
    {
        lock (_armGate)
        {
            long tick;
            bool wokeEarly;
            long version;
            Enter();
            try
            {
                tick = _armedTick;
                wokeEarly = _armWokeEarly;
                version = _armVersion;
            }
            finally
            {
                Exit();
            }

            if (_armClosed || version == _appliedArmVersion)
            {
                return;
            }

            // The version counts as applied only once Change has returned: if it throws, the next call tries again.
            if (tick == long.MaxValue)
            {
                _wakeUp.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _appliedArmVersion = version;
                return;
            }

            long delay = Math.Clamp((tick * _tickTicks) - ElapsedTicks(), 0, s_maxWakeDelayTicks);

            // A system timer counts whole milliseconds and may call back a fraction early; asking again for the
            // sub-millisecond remainder would spin at 0 ms until the boundary passes.
            if (wokeEarly && delay < TimeSpan.TicksPerMillisecond)
            {
                delay = TimeSpan.TicksPerMillisecond;
            }

            _wakeUp.Change(TimeSpan.FromTicks(delay), Timeout.InfiniteTimeSpan);
            _appliedArmVersion = version;
        }
    }

    private void RunExpired(TimeoutNode expired)
    {
        HashedWheelTimer? outer = s_runningTasksOf;
        s_runningTasksOf = this;
        try
        {
            if (_taskScheduler is null)
            {
                // Each node is retired right after its task, while it is in cache, and becomes the spare that the next
                // task's own re-arm takes; a spare left untaken joins a chain that goes back to the pool in one splice
                // at the end (a second walk over a full bucket's nodes, 50,000 in the lateness workload, would hold up
                // the next pass).
                TimeoutNode? pooled = null;
                TimeoutNode? pooledTail = null;
                int count = 0;
                TimeoutNode? node = expired;
                while (node is not null)
                {
                    TimeoutNode? next = node.Next;
                    Invoke(node);
                    Retire(node);
                    if (_spare is { } untaken)
                    {
                        untaken.Next = pooled;
                        pooled = untaken;
                        pooledTail ??= untaken;
                        count++;
                    }

                    node.Next = null;
                    _spare = node;
                    node = next;
                }

                TimeoutNode last = _spare!;
                _spare = null;
                last.Next = pooled;
                pooledTail ??= last;
                Enter();
                try
                {
                    PoolChainLocked(last, pooledTail, count + 1);
                }
                finally
                {
                    Exit();
                }
            }
            else
            {
                TimeoutNode? node = expired;
                while (node is not null)
                {
                    TimeoutNode? next = node.Next;
                    node.Next = null;
                    Dispatch(node, _taskScheduler);
                    node = next;
                }
            }
        }
        finally
        {
            s_runningTasksOf = outer;
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A scheduler that refuses work must not cost the timeout its task; it runs inline instead.")]
    private void Dispatch(TimeoutNode node, TaskScheduler scheduler)
    {
        try
        {
            _ = Task.Factory.StartNew(
                static state =>
                {
                    var (timer, node) = ((HashedWheelTimer, TimeoutNode))state!;
                    timer.InvokeOnScheduler(node);
                },
                (this, node),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                scheduler);
        }
        catch (Exception exception)
        {
            TryLog(static (logger, e) => Log.SchedulerRefused(logger, e), exception);
            InvokeOnScheduler(node);
        }
    }

    private void InvokeOnScheduler(TimeoutNode node)
    {
        Enter();
        try
        {
            // Queued before Stop but not started: it never runs, so that nothing runs after Stop returns.
            if (_stopped)
            {
                return;
            }

            _runningOnScheduler++;
        }
        finally
        {
            Exit();
        }

        HashedWheelTimer? outer = s_runningTasksOf;
        s_runningTasksOf = this;
        try
        {
            Invoke(node);
        }
        finally
        {
            s_runningTasksOf = outer;
        }

        Enter();
        try
        {
            _runningOnScheduler--;
            Recycle(node);
        }
        finally
        {
            Exit();
        }
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A task's failure must never stop the wheel; it is logged.")]
    private void Invoke(TimeoutNode node)
    {
        var timeout = new WheelTimeout(this, node, node.Stamp & ~StateMask);
        try
        {
            if (node.Task is ITimerTask task)
            {
                task.Run(timeout);
            }
            else
            {
                ((Action<WheelTimeout>)node.Task!)(timeout);
            }
        }
        catch (Exception exception)
        {
            TryLog(static (logger, e) => Log.TaskFailed(logger, e), exception);
        }
    }

    private bool TryLogPassFailure(Exception exception)
    {
        TryLog(static (logger, e) => Log.PassFailed(logger, e), exception);
        return true;
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "A logger that throws must not stop the wheel; there is nowhere left to report it.")]
    private void TryLog(Action<ILogger, Exception> log, Exception exception)
    {
        try
        {
            log(_logger, exception);
        }
        catch (Exception)
        {
        }
    }

    // The sections are short, except a pass detaching a chunk of a very full bucket or Stop walking every timeout.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Enter() => _gate.Enter();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit() => _gate.Exit();

    private static void Unlink(TimeoutNode node)
    {
        node.Prev!.Next = node.Next;
        node.Next!.Prev = node.Prev;
        node.Prev = null;
        node.Next = null;
    }

    /// <summary>Records the node's outcome, starts its next generation and keeps it for reuse. Under the lock.</summary>
    private void Recycle(TimeoutNode node)
    {
        Retire(node);
        if (_stopped || _freeCount >= HashedWheelTimerDefaults.NodePoolLimit)
        {
            node.Next = null;
            return;
        }

        node.Next = _free;
        _free = node;
        _freeCount++;
    }

    /// <summary>
    /// Records a finished node's outcome and starts its next generation, leaving its Next link alone. Under the lock,
    /// or on a node no one else can reach (detached by a pass, its task done).
    /// </summary>
    private static void Retire(TimeoutNode node)
    {
        long stamp = node.Stamp;
        int bit = 1 << (int)((stamp >> 2) & 31);
        Volatile.Write(ref node.History, (stamp & StateMask) == StateCancelled ? node.History | bit : node.History & ~bit);
        node.Task = null;
        node.Prev = null;

        // The handle reads History after Stamp, so the outcome must be visible before the new generation is.
        Volatile.Write(ref node.Stamp, (stamp & ~StateMask) + GenerationIncrement);
    }

    /// <summary>Gives retired nodes, <paramref name="head"/> to <paramref name="tail"/> linked by Next, to the pool, as many as it has room for. Under the lock.</summary>
    private void PoolChainLocked(TimeoutNode head, TimeoutNode tail, int count)
    {
        int room = _stopped ? 0 : HashedWheelTimerDefaults.NodePoolLimit - _freeCount;
        if (count > room)
        {
            // Keep the first nodes that fit; the rest are left to the GC, unlinked, so that a handle kept by a caller
            // holds only its own node.
            TimeoutNode? drop = head;
            if (room > 0)
            {
                tail = head;
                for (int i = 1; i < room; i++)
                {
                    tail = tail.Next!;
                }

                drop = tail.Next;
            }

            while (drop is not null)
            {
                TimeoutNode? next = drop.Next;
                drop.Next = null;
                drop = next;
            }

            if (room <= 0)
            {
                return;
            }

            count = room;
        }

        tail.Next = _free;
        _free = head;
        _freeCount += count;
    }

    // On the system clock the timestamp is read from Stopwatch directly: the same value TimeProvider.System gives, and the
    // same conversion TimeProvider.GetElapsedTime makes, without its two virtual calls on every schedule.
    private long ElapsedTicks() => ElapsedTicksAt(_systemClock ? Stopwatch.GetTimestamp() : _timeProvider.GetTimestamp());

    private long ElapsedTicksAt(long timestamp) =>
        _systemClock
            ? s_stopwatchCountsNanoseconds
                ? (timestamp - _startTimestamp) / NanosecondsPerTick
                : (long)((timestamp - _startTimestamp) * s_ticksPerStopwatchTick)
            : _timeProvider.GetElapsedTime(_startTimestamp, timestamp).Ticks;

    private static long ComputeMaxDelayTicks(long tickTicks, int wheelSize)
    {
        // Round counts are ints; keep a margin of two revolutions for ticks the wheel has not yet caught up on.
        long revolutionTicks = tickTicks * wheelSize;
        long limit = long.MaxValue / 4;
        return revolutionTicks > limit / (int.MaxValue - 2) ? limit : Math.Min(limit, revolutionTicks * (int.MaxValue - 2L));
    }

    private static void ValidateOptions(HashedWheelTimerOptions options)
    {
        if (options.TickDuration < HashedWheelTimerDefaults.MinTickDuration)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.TickDuration,
                $"HashedWheelTimerOptions.TickDuration is {options.TickDuration.TotalMilliseconds} ms; it must be at least {HashedWheelTimerDefaults.MinTickDuration.TotalMilliseconds} ms.");
        }

        if (options.WheelSize < 1 || options.WheelSize > HashedWheelTimerDefaults.MaxWheelSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.WheelSize,
                $"HashedWheelTimerOptions.WheelSize is {options.WheelSize}; it must be from 1 to {HashedWheelTimerDefaults.MaxWheelSize} (2^30).");
        }

        long roundedSize = (long)BitOperations.RoundUpToPowerOf2((uint)options.WheelSize);
        if (options.TickDuration.Ticks > long.MaxValue / 4 / roundedSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.TickDuration,
                $"HashedWheelTimerOptions.TickDuration ({options.TickDuration}) times WheelSize ({roundedSize}) overflows a TimeSpan. Use a shorter tick or fewer buckets.");
        }

        if (options.MaxPendingTimeouts < 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.MaxPendingTimeouts,
                $"HashedWheelTimerOptions.MaxPendingTimeouts is {options.MaxPendingTimeouts}; use 0 for no limit or a positive number.");
        }
    }

    [DoesNotReturn]
    private void ThrowDelayOutOfRange(TimeSpan delay) =>
        throw new ArgumentOutOfRangeException(
            nameof(delay),
            delay,
            delay < TimeSpan.Zero
                ? "The delay must not be negative. Use TimeSpan.Zero to run the task at the next tick."
                : $"The delay must be at most {MaxDelay} for a wheel of {WheelSize} buckets of {TickDuration.TotalMilliseconds} ms.");

    [DoesNotReturn]
    private void ThrowRejected() =>
        throw new TimeoutRejectedException(
            $"The timer already holds {_pending} pending timeouts, the most HashedWheelTimerOptions.MaxPendingTimeouts allows. Cancel some, or raise the limit.");

    [DoesNotReturn]
    private static void ThrowStopped() =>
        throw new ObjectDisposedException(nameof(HashedWheelTimer), "The timer was stopped and takes no new timeouts.");

    [DoesNotReturn]
    private static void ThrowStopFromTask() =>
        throw new InvalidOperationException(
            "A timer cannot be stopped from one of its own tasks: the task would wait for itself. Stop it from elsewhere.");
}
