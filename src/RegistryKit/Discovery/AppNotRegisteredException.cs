namespace RegistryKit.Discovery;

/// <summary>A server answered that the worker's app is not registered: a configuration error, not an outage, so nothing retries it.</summary>
public sealed class AppNotRegisteredException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public AppNotRegisteredException()
        : base("The app is not registered with the server.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    public AppNotRegisteredException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    /// <param name="innerException">The cause.</param>
    public AppNotRegisteredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
