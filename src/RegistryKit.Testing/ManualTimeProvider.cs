using System.Globalization;

namespace RegistryKit.Testing;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock moves only when a test moves it, so that time-dependent code runs the
/// same way every time, in no wall-clock time at all.
/// </summary>
/// <remarks>
/// <para>
/// Timers fire only inside <see cref="Advance"/> and <see cref="SetUtcNow"/>, on the calling thread, one at a time
/// in due order (timers due at the same moment in the order they were created), and the clock reads each timer's due
/// time while its callback runs. A timer that is already due when it is created or changed fires on the next
/// advance, even <c>Advance(TimeSpan.Zero)</c>, never inside <c>CreateTimer</c> or <c>Change</c>. Periodic timers keep
/// a fixed rate.
/// </para>
/// <para>
/// Everything built on <see cref="TimeProvider"/> works through it: <see cref="Task.Delay(TimeSpan, TimeProvider)"/>,
/// <see cref="CancellationTokenSource(TimeSpan, TimeProvider)"/>, Polly's timeouts and delays, and RegistryKit's
/// wheel timer. Time never goes backwards. <see cref="TimeProvider.GetTimestamp"/> counts <see cref="TimeSpan"/>
/// ticks in step with <see cref="GetUtcNow"/>.
/// </para>
/// <para>
/// Microsoft.Extensions.TimeProvider.Testing is not on every package feed; this class covers what RegistryKit's tests
/// need of it. Advance the clock from one thread at a time.
/// </para>
/// </remarks>
public sealed class ManualTimeProvider : TimeProvider
{
    /// <summary>The longest due time or period a timer accepts: 0xFFFFFFFE ms (about 49.7 days), as for <see cref="System.Threading.Timer"/>.</summary>
    public static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>The moment a provider created without a start time begins at: 2000-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly PriorityQueue<(ManualTimer Timer, long Version), (long Due, long Order)> _queue = new();
    private long _nowTicks;
    private long _createdTimers;
    private int _scheduledTimers;

    /// <summary>Creates a provider whose clock starts at <see cref="DefaultStart"/>.</summary>
    public ManualTimeProvider()
        : this(DefaultStart)
    {
    }

    /// <summary>Creates a provider whose clock starts at <paramref name="start"/>.</summary>
    /// <param name="start">The first value of <see cref="GetUtcNow"/>.</param>
    public ManualTimeProvider(DateTimeOffset start)
    {
        _nowTicks = start.UtcTicks;
    }

    /// <summary>Gets the number of timers that are scheduled to fire (created or changed with a finite due time, not yet fired or disposed).</summary>
    public int ScheduledTimers => Volatile.Read(ref _scheduledTimers);

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Gets UTC: local time under a manual clock would depend on the machine.</summary>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => new(Volatile.Read(ref _nowTicks), TimeSpan.Zero);

    /// <inheritdoc/>
    public override long GetTimestamp() => Volatile.Read(ref _nowTicks);

    /// <summary>Gets how long until the next timer is due, or <see langword="null"/> when none is scheduled.</summary>
    /// <returns>The time to the next due timer (zero when one is already due).</returns>
    public TimeSpan? GetTimeToNextTimer()
    {
        lock (_lock)
        {
            return TryPeekLive(out long due) ? TimeSpan.FromTicks(Math.Max(0, due - _nowTicks)) : null;
        }
    }

    /// <summary>Moves the clock forward by <paramref name="delta"/>, firing every timer that comes due on the way.</summary>
    /// <param name="delta">How far to move; zero fires the timers that are already due.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative: time never goes backwards.</exception>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Time never goes backwards: advance by zero or more.");
        }

        AdvanceTo(checked(Volatile.Read(ref _nowTicks) + delta.Ticks));
    }

    /// <summary>Moves the clock forward to <paramref name="value"/>, firing every timer that comes due on the way.</summary>
    /// <param name="value">The new time; not earlier than the current one.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is earlier than now: time never goes backwards.</exception>
    public void SetUtcNow(DateTimeOffset value)
    {
        if (value.UtcTicks < Volatile.Read(ref _nowTicks))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Time never goes backwards: {value:O} is before the current time {GetUtcNow():O}.");
        }

        AdvanceTo(value.UtcTicks);
    }

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state, Interlocked.Increment(ref _createdTimers));
        timer.Change(dueTime, period);
        return timer;
    }

    /// <inheritdoc/>
    public override string ToString() => GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private void AdvanceTo(long target)
    {
        while (true)
        {
            ManualTimer timer;
            lock (_lock)
            {
                if (!TryPeekLive(out long due) || due > target)
                {
                    if (target > _nowTicks)
                    {
                        Volatile.Write(ref _nowTicks, target);
                    }

                    return;
                }

                timer = _queue.Dequeue().Timer;
                if (due > _nowTicks)
                {
                    Volatile.Write(ref _nowTicks, due);
                }

                if (timer.PeriodTicks > 0)
                {
                    // Fixed rate: the next firing is a period after this one was due, not after it ran.
                    ScheduleLocked(timer, due + timer.PeriodTicks);
                }
                else
                {
                    timer.Scheduled = false;
                    timer.Version++;
                    _scheduledTimers--;
                }
            }

            timer.Callback(timer.State);
        }
    }

    private bool TryPeekLive(out long due)
    {
        while (_queue.TryPeek(out (ManualTimer Timer, long Version) entry, out (long Due, long Order) priority))
        {
            if (entry.Timer.Version == entry.Version && entry.Timer.Scheduled)
            {
                due = priority.Due;
                return true;
            }

            _queue.Dequeue();
        }

        due = 0;
        return false;
    }

    private void ScheduleLocked(ManualTimer timer, long due)
    {
        timer.Version++;
        _queue.Enqueue((timer, timer.Version), (due, timer.Order));

        // Rescheduling leaves the old entry behind until it reaches the head; drop such entries once they
        // outnumber the live ones, so a timer changed over and over does not grow the queue without bound.
        if (_queue.Count > (2 * _scheduledTimers) + 64)
        {
            var live = new List<((ManualTimer Timer, long Version) Entry, (long Due, long Order) Priority)>(_scheduledTimers);
            foreach (((ManualTimer Timer, long Version) entry, (long Due, long Order) priority) in _queue.UnorderedItems)
            {
                if (entry.Timer.Version == entry.Version && entry.Timer.Scheduled)
                {
                    live.Add((entry, priority));
                }
            }

            _queue.Clear();
            _queue.EnqueueRange(live);
        }
    }

    /// <summary>The number of entries in the due queue, live or stale; for tests of the provider itself.</summary>
    internal int QueueLength
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    private bool Change(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        ValidateTimerSpan(dueTime, nameof(dueTime));
        ValidateTimerSpan(period, nameof(period));
        lock (_lock)
        {
            if (timer.Disposed)
            {
                return false;
            }

            timer.PeriodTicks = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                if (timer.Scheduled)
                {
                    timer.Scheduled = false;
                    timer.Version++;
                    _scheduledTimers--;
                }

                return true;
            }

            if (!timer.Scheduled)
            {
                timer.Scheduled = true;
                _scheduledTimers++;
            }

            ScheduleLocked(timer, _nowTicks + dueTime.Ticks);
            return true;
        }
    }

    private void Dispose(ManualTimer timer)
    {
        lock (_lock)
        {
            if (timer.Disposed)
            {
                return;
            }

            timer.Disposed = true;
            if (timer.Scheduled)
            {
                timer.Scheduled = false;
                timer.Version++;
                _scheduledTimers--;
            }
        }
    }

    private static void ValidateTimerSpan(TimeSpan value, string paramName)
    {
        if (value != Timeout.InfiniteTimeSpan && (value < TimeSpan.Zero || value > MaxTimerDelay))
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                value,
                $"A timer's due time and period must be from zero to {MaxTimerDelay.TotalMilliseconds} ms (as for System.Threading.Timer), or Timeout.InfiniteTimeSpan.");
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state, long order) : ITimer
    {
        // Guarded by the owner's lock.
        public long PeriodTicks;
        public long Version;
        public bool Scheduled;
        public bool Disposed;

        public TimerCallback Callback { get; } = callback;

        public object? State { get; } = state;

        public long Order { get; } = order;

        public bool Change(TimeSpan dueTime, TimeSpan period) => owner.Change(this, dueTime, period);

        public void Dispose() => owner.Dispose(this);

        public ValueTask DisposeAsync()
        {
            owner.Dispose(this);
            return ValueTask.CompletedTask;
        }
    }
}
