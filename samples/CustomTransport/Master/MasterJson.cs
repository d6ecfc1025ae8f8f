using System.Text.Json;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>The JSON settings both ends of the master's protocol use.</summary>
internal static class MasterJson
{
    /// <summary>camelCase names; a missing or null value where the type has none is an error, not a silent null.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
