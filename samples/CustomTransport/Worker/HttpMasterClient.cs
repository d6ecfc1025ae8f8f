using System.Net.Http.Json;
using System.Text.Json;
using RegistryKit.Masters;
using RegistryKit.Reporting;
using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Samples.CustomTransport.Transport;

namespace RegistryKit.Samples.CustomTransport.Worker;

/// <summary>
/// The worker's side of the master protocol for <see cref="MultiMasterRegistration"/>: one HTTP call per registration
/// or heartbeat. A failure is thrown; <see cref="MultiMasterRegistration"/> logs it, counts it and retries.
/// </summary>
internal sealed class HttpMasterClient : IMasterClient
{
    private readonly HttpClient _http;

    /// <summary>Creates the client.</summary>
    /// <param name="http">The HTTP client; the caller owns it. Master addresses are absolute, so it needs no base address.</param>
    public HttpMasterClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    public async ValueTask<MasterRegistrationResponse> RegisterAsync(string masterAddress, string workerId, CancellationToken cancellationToken)
    {
        string status = await PostAsync(masterAddress, workerId, "register", content: null, cancellationToken);
        return status switch
        {
            MasterProtocol.Registered => MasterRegistrationResponse.Registered,
            MasterProtocol.Duplicate => MasterRegistrationResponse.RegisteredDuplicate,
            MasterProtocol.Standby => MasterRegistrationResponse.Standby,
            _ => throw UnknownStatus(masterAddress, "registration", status),
        };
    }

    public async ValueTask<MasterHeartbeatResponse> HeartbeatAsync(string masterAddress, string workerId, HealthReport? report, CancellationToken cancellationToken)
    {
        string status = await PostAsync(masterAddress, workerId, "heartbeat", JsonContent.Create(new HeartbeatMessage(report), options: MasterJson.Options), cancellationToken);
        return status switch
        {
            MasterProtocol.Ok => MasterHeartbeatResponse.Ok,
            MasterProtocol.Reconnect => MasterHeartbeatResponse.Reconnect,
            _ => throw UnknownStatus(masterAddress, "heartbeat", status),
        };
    }

    private async Task<string> PostAsync(string masterAddress, string workerId, string action, HttpContent? content, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _http.PostAsync($"{masterAddress.TrimEnd('/')}/v1/workers/{Uri.EscapeDataString(workerId)}/{action}", content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"The master at '{masterAddress}' refused the {action} with HTTP {(int)response.StatusCode}: {MasterRegistryTransport.Printable(body)}", null, response.StatusCode);
        }

        try
        {
            StatusMessage? answer = await response.Content.ReadFromJsonAsync<StatusMessage>(MasterJson.Options, cancellationToken);
            return answer?.Status ?? throw UnknownStatus(masterAddress, action, "null");
        }
        catch (JsonException failure)
        {
            throw new InvalidDataException($"The master at '{masterAddress}' answered the {action} with something other than {{\"status\": …}}.", failure);
        }
    }

    private static InvalidDataException UnknownStatus(string masterAddress, string action, string status) =>
        new($"The master at '{masterAddress}' answered the {action} with the unknown status '{MasterRegistryTransport.Printable(status)}'.");
}
