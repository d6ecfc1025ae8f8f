namespace RegistryKit.Transport;

/// <summary>A transport call failed. <see cref="IsTransient"/> says whether trying again may help.</summary>
public class RegistryTransportException : Exception
{
    /// <summary>Creates a transient failure with a default message.</summary>
    public RegistryTransportException()
        : this("The registry transport call failed.", isTransient: true)
    {
    }

    /// <summary>Creates a transient failure.</summary>
    /// <param name="message">What failed. Never include credentials.</param>
    public RegistryTransportException(string message)
        : this(message, isTransient: true)
    {
    }

    /// <summary>Creates a transient failure with a cause.</summary>
    /// <param name="message">What failed. Never include credentials.</param>
    /// <param name="innerException">The cause.</param>
    public RegistryTransportException(string message, Exception innerException)
        : this(message, isTransient: true, innerException)
    {
    }

    /// <summary>Creates a failure.</summary>
    /// <param name="message">What failed. Never include credentials.</param>
    /// <param name="isTransient">Whether trying again may help; when <see langword="false"/> the engine does not retry.</param>
    /// <param name="innerException">The cause, if any.</param>
    public RegistryTransportException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
    }

    /// <summary>Gets whether trying again may help.</summary>
    public bool IsTransient { get; }
}
