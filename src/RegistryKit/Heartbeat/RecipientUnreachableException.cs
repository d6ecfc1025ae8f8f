namespace RegistryKit.Heartbeat;

/// <summary>
/// A heartbeat request could not reach its target. Only this failure counts towards
/// <see cref="HeartbeatOptions.FailedRpcThreshold"/>; others (a target that answered with an error) do not.
/// </summary>
public sealed class RecipientUnreachableException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public RecipientUnreachableException()
        : base("The heartbeat target could not be reached.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public RecipientUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public RecipientUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
