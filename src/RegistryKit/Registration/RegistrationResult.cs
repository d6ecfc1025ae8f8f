namespace RegistryKit.Registration;

/// <summary>How a registration ended: the connection it went through and the target's final answer (a success or a rejection).</summary>
/// <typeparam name="TGateway">The connection to the target.</typeparam>
/// <typeparam name="TSuccess">What a successful registration returns.</typeparam>
/// <typeparam name="TRejection">What a rejection carries.</typeparam>
/// <param name="Gateway">The connection the final attempt went through.</param>
/// <param name="Response">The final answer: <see cref="RegistrationResponseKind.Success"/> or <see cref="RegistrationResponseKind.Rejection"/>.</param>
public sealed record RegistrationResult<TGateway, TSuccess, TRejection>(TGateway Gateway, RegistrationResponse<TSuccess, TRejection> Response);
