namespace RegistryKit.Discovery;

/// <summary>No configured server could be reached at start-up (and <see cref="ServerDiscoveryOptions.LazyStart"/> is off).</summary>
public sealed class ServerUnavailableException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public ServerUnavailableException()
        : base("No server could be reached.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    public ServerUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    /// <param name="innerException">The cause (the last server's failure).</param>
    public ServerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
