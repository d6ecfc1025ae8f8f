namespace RegistryKit.Timers;

/// <summary>The defaults and limits of <see cref="HashedWheelTimerOptions"/>, in one place a test pins.</summary>
internal static class HashedWheelTimerDefaults
{
    /// <summary>10 ms: Netty and Dubbo use 100 ms, but this wheel sleeps between due buckets, so a finer tick costs little.</summary>
    public static readonly TimeSpan TickDuration = TimeSpan.FromMilliseconds(10);

    /// <summary>512 buckets, Netty's default: one revolution at 10 ms spans 5.12 s, about one heartbeat period.</summary>
    public const int WheelSize = 512;

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
}
