namespace RegistryKit.Transport;

/// <summary>
/// The registry no longer knows the session (it expired, or the registry restarted and forgot it). The engine
/// opens a new session and registers every intent again.
/// </summary>
public sealed class RegistrySessionLostException : RegistryTransportException
{
    /// <summary>Creates the exception with a default message.</summary>
    public RegistrySessionLostException()
        : base("The registry no longer knows the session.", isTransient: true)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public RegistrySessionLostException(string message)
        : base(message, isTransient: true)
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public RegistrySessionLostException(string message, Exception innerException)
        : base(message, isTransient: true, innerException)
    {
    }
}
