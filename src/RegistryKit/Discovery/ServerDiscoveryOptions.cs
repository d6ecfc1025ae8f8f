using RegistryKit.Internal;

namespace RegistryKit.Discovery;

/// <summary>Settings of a <see cref="ServerDiscovery"/>; every number is PowerJob's by default.</summary>
public sealed class ServerDiscoveryOptions
{
    /// <summary>Gets or sets how many times each server is asked to assert the app before moving to the next.</summary>
    /// <value>The default is 3. From 1 to 100.</value>
    public int AssertAttempts { get; set; } = ServerDiscoveryDefaults.AssertAttempts;

    /// <summary>Gets or sets the pause between two assert tries on one server.</summary>
    /// <value>The default is 100 milliseconds. From zero to one minute.</value>
    public TimeSpan AssertRetryDelay { get; set; } = ServerDiscoveryDefaults.AssertRetryDelay;

    /// <summary>Gets or sets how long one call to a server may take before it counts as failed.</summary>
    /// <value>The default is 5 seconds. Positive, and below <see cref="DiscoveryInterval"/>.</value>
    public TimeSpan CallTimeout { get; set; } = ServerDiscoveryDefaults.CallTimeout;

    /// <summary>Gets or sets how often a discovery round runs after the first one at start.</summary>
    /// <value>The default is 10 seconds. Positive.</value>
    public TimeSpan DiscoveryInterval { get; set; } = ServerDiscoveryDefaults.DiscoveryInterval;

    /// <summary>Gets or sets after how many failed rounds in a row the current server is lost.</summary>
    /// <value>The default is 3, as PowerJob documents (its code uses 5). Positive.</value>
    public int LostAfterFailedRounds { get; set; } = ServerDiscoveryDefaults.LostAfterFailedRounds;

    /// <summary>
    /// Gets or sets whether start-up succeeds when no server can be reached; discovery then keeps trying in the
    /// background (PowerJob #204, #613, #702: workers could not start while the servers were down).
    /// </summary>
    /// <value>The default is <see langword="false"/>: start-up fails when every server is down.</value>
    public bool LazyStart { get; set; }

    /// <summary>Gets or sets whether the server list is shuffled once, so that workers spread their first calls.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool ShuffleServers { get; set; } = true;

    /// <summary>A copy, so that changes made to these options after they were handed over take no effect.</summary>
    internal ServerDiscoveryOptions Clone() => (ServerDiscoveryOptions)MemberwiseClone();

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), AssertAttempts is >= 1 and <= 100, nameof(AssertAttempts), AssertAttempts, "must be from 1 to 100");
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), AssertRetryDelay >= TimeSpan.Zero && AssertRetryDelay <= TimeSpan.FromMinutes(1), nameof(AssertRetryDelay), AssertRetryDelay, "must be from zero to one minute");
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), CallTimeout > TimeSpan.Zero, nameof(CallTimeout), CallTimeout, "must be positive");
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), DiscoveryInterval > TimeSpan.Zero, nameof(DiscoveryInterval), DiscoveryInterval, "must be positive");
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), CallTimeout < DiscoveryInterval, nameof(CallTimeout), CallTimeout, "must be below DiscoveryInterval, so that a round can finish before the next is due");
        OptionsGuard.Require(nameof(ServerDiscoveryOptions), LostAfterFailedRounds > 0, nameof(LostAfterFailedRounds), LostAfterFailedRounds, "must be positive");
    }
}
