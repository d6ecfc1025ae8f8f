namespace RegistryKit.Registration;

/// <summary>Settings of a <see cref="RegisteredConnection{TGateway, TSuccess, TRejection}"/>.</summary>
public sealed class RegisteredConnectionOptions
{
    /// <summary>Gets or sets the timeouts and delays of each registration.</summary>
    /// <value>The default is Flink's (100 ms, 30 s, 10 s, 30 s).</value>
    public RetryingRegistrationOptions Registration { get; set; } = new();

    /// <summary>
    /// Gets or sets how long a registration may take before the listener hears of a registration timeout
    /// (<c>taskmanager.registration.timeout</c>); <see cref="Timeout.InfiniteTimeSpan"/> turns the deadline off.
    /// </summary>
    /// <value>The default is 5 minutes (Flink's). Positive, or infinite.</value>
    public TimeSpan MaxRegistrationDuration { get; set; } = RegisteredConnectionDefaults.MaxRegistrationDuration;

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="ArgumentNullException"><see cref="Registration"/> is null.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Registration, nameof(Registration));
        Registration.Validate();
        if (MaxRegistrationDuration <= TimeSpan.Zero && MaxRegistrationDuration != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxRegistrationDuration),
                MaxRegistrationDuration,
                $"RegisteredConnectionOptions.MaxRegistrationDuration is {MaxRegistrationDuration}; it must be positive, or Timeout.InfiniteTimeSpan to turn the deadline off.");
        }
    }
}
