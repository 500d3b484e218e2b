using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BackupManager.Tests.Infrastructure;

/// <summary>The real sign-in form over HTTP: fetch it (for the antiforgery pair), post it, read the answer.</summary>
public static partial class SignInForm
{
    /// <summary>
    /// A client that keeps cookies (the antiforgery cookie must come back with the form), optionally as one client
    /// address.
    /// </summary>
    public static HttpClient Browser(WebAppHost host, string? clientAddress = null)
    {
        var client = host.UsesKestrel
            ? new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true })
                { BaseAddress = host.BaseAddress }
            : host.Factory.CreateClient(new WebApplicationFactoryClientOptions
                { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = host.BaseAddress });
        if (clientAddress is not null) client.DefaultRequestHeaders.Add(TestClientAddress.Header, clientAddress);
        return client;
    }

    /// <summary>
    /// The form's POST, ready to send: the antiforgery token comes from a GET of the form just before.
    /// </summary>
    public static async Task<HttpRequestMessage> PrepareAsync(HttpClient client, string email, string password,
        string? returnUrl = null)
    {
        var form = await client.GetStringAsync("/Account/Login");
        var token = AntiforgeryInput().Match(form).Groups[1].Value;
        var path = returnUrl is null ? "/Account/Login" : "/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
        return new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
                ["Input.Email"] = email,
                ["Input.Password"] = password,
            }),
        };
    }

    /// <summary>
    /// Posts the form; returns the status, the page, and the answer the page gave (wrong password, wait, or none).
    /// </summary>
    public static async Task<(HttpStatusCode Status, string Page, string Answer)> PostAsync(
        HttpClient client, string email,
        string password, string? returnUrl = null)
    {
        var response = await client.SendAsync(await PrepareAsync(client, email, password, returnUrl));
        var page = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, page, Answer().Match(page).Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();

    [GeneratedRegex(@"Wrong e-mail or password\.|Too many failed sign-ins\. Wait \d+ seconds")]
    private static partial Regex Answer();
}
