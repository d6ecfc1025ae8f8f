namespace RegistryKit.Registration;

/// <summary>The defaults of <see cref="RegisteredConnectionOptions"/>, pinned by a test.</summary>
internal static class RegisteredConnectionDefaults
{
    /// <summary>Flink's <c>taskmanager.registration.timeout</c>.</summary>
    public static readonly TimeSpan MaxRegistrationDuration = TimeSpan.FromMinutes(5);
}
