using RegistryKit.Internal;

namespace RegistryKit.Registration;

/// <summary>Settings of a <see cref="RetryingRegistration{TGateway, TSuccess, TRejection}"/>.</summary>
public sealed class RetryingRegistrationOptions
{
    /// <summary>Gets or sets the timeout of the first attempt, and of the first after a decline or an error.</summary>
    /// <value>The default is 100 milliseconds (Flink's). Positive.</value>
    public TimeSpan InitialTimeout { get; set; } = RetryingRegistrationDefaults.InitialTimeout;

    /// <summary>Gets or sets the cap of the attempt timeout, which doubles after every timed-out attempt.</summary>
    /// <value>The default is 30 seconds (Flink's). Not below <see cref="InitialTimeout"/>.</value>
    public TimeSpan MaxTimeout { get; set; } = RetryingRegistrationDefaults.MaxTimeout;

    /// <summary>Gets or sets the pause after an attempt (or a connect) that failed with an exception.</summary>
    /// <value>The default is 10 seconds (Flink's). Positive.</value>
    public TimeSpan ErrorDelay { get; set; } = RetryingRegistrationDefaults.ErrorDelay;

    /// <summary>Gets or sets the pause after the target declined.</summary>
    /// <value>The default is 30 seconds (Flink's). Positive.</value>
    public TimeSpan RefusedDelay { get; set; } = RetryingRegistrationDefaults.RefusedDelay;

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        OptionsGuard.Require(nameof(RetryingRegistrationOptions), InitialTimeout > TimeSpan.Zero, nameof(InitialTimeout), InitialTimeout, "must be positive");
        OptionsGuard.Require(nameof(RetryingRegistrationOptions), MaxTimeout >= InitialTimeout, nameof(MaxTimeout), MaxTimeout, $"must not be below InitialTimeout ({InitialTimeout})");
        OptionsGuard.Require(nameof(RetryingRegistrationOptions), ErrorDelay > TimeSpan.Zero, nameof(ErrorDelay), ErrorDelay, "must be positive");
        OptionsGuard.Require(nameof(RetryingRegistrationOptions), RefusedDelay > TimeSpan.Zero, nameof(RefusedDelay), RefusedDelay, "must be positive");
    }
}
