namespace RegistryKit.Timers;

/// <summary>The defaults and limits of <see cref="HashedWheelTimerOptions"/>, in one place a test pins.</summary>
internal static class HashedWheelTimerDefaults
{
    /// <summary>
    /// 100 ms, Netty's default (Dubbo's retry timer ticks once per retry period): heartbeats and retries are seconds apart,
    /// and every tick that has something due costs a wake-up. At 100,000 sessions beating every 5 s a 10 ms tick wakes
    /// about 80 times a second and costs about 1.4 times the CPU of a 100 ms one (docs/benchmarks.md). Timeouts that need
    /// a finer grain get a wheel of their own with a shorter tick.
    /// </summary>
    public static readonly TimeSpan TickDuration = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// 8,192 buckets: one revolution at 100 ms spans 819.2 s (81.92 s at 10 ms), longer than any usual heartbeat interval
    /// or retry backoff, so a pass meets each timeout once, when it is due. With Netty's 512 buckets of 10 ms a revolution
    /// spans 5.12 s, and a pass walks every timeout of its bucket on every revolution: a million 50 s heartbeats cost 4.7
    /// times the CPU that way (docs/benchmarks.md). A bucket costs 8 bytes up front and 56 more once a timeout first lands
    /// in it.
    /// </summary>
    public const int WheelSize = 8192;

    /// <summary>0: no limit on pending timeouts.</summary>
    public const long MaxPendingTimeouts = 0;

    /// <summary>Netty's floor for the tick.</summary>
    public static readonly TimeSpan MinTickDuration = TimeSpan.FromMilliseconds(1);

    /// <summary>Netty's ceiling for the number of buckets.</summary>
    public const int MaxWheelSize = 1 << 30;

    /// <summary>Past this many live instances, creating another logs a warning (Netty and Dubbo use 64).</summary>
    public const int InstanceWarningThreshold = 64;

    /// <summary>Free nodes kept for reuse at most (about 3.5 MiB); beyond it, finished nodes are left to the GC.</summary>
    public const int NodePoolLimit = 65_536;

    /// <summary>How many buckets the wheel looks ahead for the next due one before it wakes anyway.</summary>
    public const int WakeScanLimit = 4096;

    /// <summary>On the system clock, how long the wake-up thread waits with nothing armed before it ends (a new one starts when needed).</summary>
    public static readonly TimeSpan WakeUpThreadIdleExit = TimeSpan.FromSeconds(1);

    /// <summary>The name of the wheel's wake-up thread on the system clock, as debuggers and dumps show it.</summary>
    public const string WakeUpThreadName = "RegistryKit wheel";
}
