namespace RegistryKit.Timers;

/// <summary>A task that a <see cref="HashedWheelTimer"/> runs when its timeout expires.</summary>
/// <remarks>
/// One instance may be scheduled many times (a heartbeat reschedules itself), so scheduling it allocates nothing.
/// Tasks run on the wheel's own callback unless <see cref="HashedWheelTimerOptions.TaskScheduler"/> is set: keep
/// them short, and start asynchronous work rather than wait for it.
/// </remarks>
public interface ITimerTask
{
    /// <summary>Runs the task.</summary>
    /// <param name="timeout">The timeout that expired. Its <see cref="WheelTimeout.IsExpired"/> is <see langword="true"/>.</param>
    void Run(WheelTimeout timeout);
}
