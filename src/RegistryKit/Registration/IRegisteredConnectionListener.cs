namespace RegistryKit.Registration;

/// <summary>Hears how the registrations of a <see cref="RegisteredConnection{TGateway, TSuccess, TRejection}"/> end.</summary>
/// <typeparam name="TGateway">The connection to the target.</typeparam>
/// <typeparam name="TSuccess">What a successful registration returns.</typeparam>
/// <typeparam name="TRejection">What a rejection carries.</typeparam>
public interface IRegisteredConnectionListener<in TGateway, in TSuccess, in TRejection>
{
    /// <summary>The current registration succeeded.</summary>
    /// <param name="gateway">The connection it went through.</param>
    /// <param name="success">What the target returned.</param>
    void OnRegistrationSuccess(TGateway gateway, TSuccess success);

    /// <summary>The current registration was rejected for good.</summary>
    /// <param name="rejection">What the target said.</param>
    void OnRegistrationRejection(TRejection rejection);

    /// <summary>The current registration failed and stopped (not a cancellation).</summary>
    /// <param name="failure">Why.</param>
    void OnRegistrationFailure(Exception failure);

    /// <summary>No registration succeeded within the maximum registration duration. Reported once per arming.</summary>
    /// <param name="maxDuration">The duration that passed.</param>
    void OnRegistrationTimeout(TimeSpan maxDuration);
}
