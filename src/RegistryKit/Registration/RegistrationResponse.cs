using System.Diagnostics.CodeAnalysis;

namespace RegistryKit.Registration;

/// <summary>What a target answered to one registration attempt.</summary>
public enum RegistrationResponseKind
{
    /// <summary>Registered; the registration is complete.</summary>
    Success,

    /// <summary>Refused for good (the target will never accept this registration); the registration completes with it, unretried.</summary>
    Rejection,

    /// <summary>Declined for now (not ready, busy); retried after the refused delay.</summary>
    Decline,
}

/// <summary>A target's answer to one registration attempt (Flink's RegistrationResponse).</summary>
/// <typeparam name="TSuccess">What a successful registration returns.</typeparam>
/// <typeparam name="TRejection">What a rejection carries.</typeparam>
[SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "Success/Rejection/Decline are the three cases of this union; factories on the type read best at call sites.")]
public sealed class RegistrationResponse<TSuccess, TRejection>
{
    private RegistrationResponse(RegistrationResponseKind kind, TSuccess? success, TRejection? rejection, string? reason)
    {
        Kind = kind;
        SuccessValue = success;
        RejectionValue = rejection;
        Reason = reason;
    }

    /// <summary>Gets the kind of answer.</summary>
    public RegistrationResponseKind Kind { get; }

    /// <summary>Gets the success value, when <see cref="Kind"/> is <see cref="RegistrationResponseKind.Success"/>.</summary>
    public TSuccess? SuccessValue { get; }

    /// <summary>Gets the rejection, when <see cref="Kind"/> is <see cref="RegistrationResponseKind.Rejection"/>.</summary>
    public TRejection? RejectionValue { get; }

    /// <summary>Gets why the attempt was declined, when <see cref="Kind"/> is <see cref="RegistrationResponseKind.Decline"/>.</summary>
    public string? Reason { get; }

    /// <summary>Gets whether the target accepted.</summary>
    [MemberNotNullWhen(true, nameof(SuccessValue))]
    public bool IsSuccess => Kind == RegistrationResponseKind.Success;

    /// <summary>The target accepted.</summary>
    /// <param name="value">What it returned.</param>
    /// <returns>The answer.</returns>
    public static RegistrationResponse<TSuccess, TRejection> Success(TSuccess value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(RegistrationResponseKind.Success, value, default, null);
    }

    /// <summary>The target refused for good.</summary>
    /// <param name="value">Why, in the target's terms.</param>
    /// <returns>The answer.</returns>
    public static RegistrationResponse<TSuccess, TRejection> Rejection(TRejection value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(RegistrationResponseKind.Rejection, default, value, null);
    }

    /// <summary>The target declined for now.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The answer.</returns>
    public static RegistrationResponse<TSuccess, TRejection> Decline(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return new(RegistrationResponseKind.Decline, default, default, reason);
    }

    /// <inheritdoc/>
    public override string ToString() => Kind == RegistrationResponseKind.Decline ? $"Decline ({Reason})" : Kind.ToString();
}
