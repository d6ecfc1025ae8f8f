namespace RegistryKit.Registry;

/// <summary>A registry operation failed and will not be retried (check was on, or no retry could fix it).</summary>
public sealed class RegistryException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public RegistryException()
        : base("The registry operation failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    public RegistryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never includes credentials.</param>
    /// <param name="innerException">The cause.</param>
    public RegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
