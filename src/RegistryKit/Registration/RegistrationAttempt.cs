namespace RegistryKit.Registration;

/// <summary>What one registration attempt is given.</summary>
/// <param name="TargetAddress">The address being registered with.</param>
/// <param name="FencingToken">The token that identifies this registration run; answers to another run are stale.</param>
/// <param name="Timeout">How long this attempt may take; it doubles after every timed-out attempt, up to the maximum.</param>
/// <param name="Number">The attempt's number, from 1.</param>
public readonly record struct RegistrationAttempt(string TargetAddress, Guid FencingToken, TimeSpan Timeout, int Number);
