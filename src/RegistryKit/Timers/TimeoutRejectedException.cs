namespace RegistryKit.Timers;

/// <summary>
/// Thrown by <see cref="HashedWheelTimer.NewTimeout(ITimerTask, TimeSpan)"/> when the timer already holds
/// <see cref="HashedWheelTimerOptions.MaxPendingTimeouts"/> pending timeouts.
/// </summary>
public sealed class TimeoutRejectedException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public TimeoutRejectedException()
        : base("The timer refused a new timeout because it holds as many pending timeouts as it may.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public TimeoutRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TimeoutRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
