namespace RegistryKit.Timers;

/// <summary>Where a <see cref="WheelTimeout"/> stands.</summary>
public enum TimeoutStatus
{
    /// <summary>Not a timeout: the default value of <see cref="WheelTimeout"/>.</summary>
    None = -1,

    /// <summary>Waiting to expire.</summary>
    Pending = 0,

    /// <summary>Cancelled before it expired, by <see cref="WheelTimeout.Cancel"/> or <see cref="HashedWheelTimer.Stop"/>.</summary>
    Cancelled = 1,

    /// <summary>Expired: its task has been started, or queued to the timer's task scheduler.</summary>
    Expired = 2,
}
