namespace RegistryKit.Timers;

/// <summary>Settings of a <see cref="HashedWheelTimer"/>.</summary>
public sealed class HashedWheelTimerOptions
{
    /// <summary>Gets or sets how long one tick of the wheel lasts: timeouts fire at most about this late.</summary>
    /// <value>The default is 100 milliseconds (Netty's). At least 1 millisecond.</value>
    public TimeSpan TickDuration { get; set; } = HashedWheelTimerDefaults.TickDuration;

    /// <summary>
    /// Gets or sets the number of buckets; rounded up to a power of two. <see cref="TickDuration"/> × the size is one
    /// revolution: a timeout further away than that is walked past once per revolution before it is due, so the
    /// revolution should cover the usual heartbeat intervals and retry delays. Each bucket costs 8 bytes up front and
    /// 56 more once used; the upper limit is a bound, not a suggestion.
    /// </summary>
    /// <value>The default is 8,192 (819.2 s at the default tick). From 1 to 2^30, and <see cref="TickDuration"/> × the size must fit in a <see cref="TimeSpan"/>.</value>
    public int WheelSize { get; set; } = HashedWheelTimerDefaults.WheelSize;

    /// <summary>Gets or sets how many timeouts may be pending at once; beyond it scheduling throws <see cref="TimeoutRejectedException"/>.</summary>
    /// <value>The default is 0, meaning no limit. Not negative.</value>
    public long MaxPendingTimeouts { get; set; } = HashedWheelTimerDefaults.MaxPendingTimeouts;

    /// <summary>
    /// Gets or sets the scheduler that runs expired tasks, so that a slow task does not delay every other timeout.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: tasks run one after another on the wheel's callback, which allocates
    /// nothing. With a scheduler (for example <see cref="System.Threading.Tasks.TaskScheduler.Default"/>, the thread
    /// pool) each expired task is queued to it, at the cost of a <see cref="Task"/> and its state per task. A scheduler
    /// that refuses the work makes the task run on the wheel's callback instead (logged).
    /// </value>
    public TaskScheduler? TaskScheduler { get; set; }
}
