using Microsoft.Extensions.Logging;

namespace RegistryKit.Timers;

public sealed partial class HashedWheelTimer
{
    // Event ids 1000–1099 belong to the timer. They never change once released.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, EventName = "TimerTaskFailed", Level = LogLevel.Error,
            Message = "A timer task threw an exception; the wheel carries on with the other timeouts.")]
        public static partial void TaskFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1001, EventName = "TooManyTimers", Level = LogLevel.Warning,
            Message = "{Count} HashedWheelTimer instances are alive, more than {Threshold}. A timer is meant to be shared: use one per process.")]
        public static partial void TooManyInstances(ILogger logger, int count, int threshold);

        [LoggerMessage(EventId = 1002, EventName = "TimerPassFailed", Level = LogLevel.Error,
            Message = "A pass of the timer wheel failed; the next wake-up carries on.")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1003, EventName = "TimerSchedulerRefused", Level = LogLevel.Warning,
            Message = "The task scheduler refused an expired timer task; it ran on the wheel's callback instead.")]
        public static partial void SchedulerRefused(ILogger logger, Exception exception);
    }
}
