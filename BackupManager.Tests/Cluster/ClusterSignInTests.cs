using System.Net;
using System.Text.RegularExpressions;
using BackupManager.Tests.Infrastructure;

namespace BackupManager.Tests.Cluster;

/// <summary>
/// Behind a load balancer a request may land on any instance: a sign-in made on one must hold on the others, though
/// each runs on a server of its own (its own home folder, so no key ring is shared through the disk).
/// </summary>
public sealed partial class ClusterSignInTests
{
    [Fact]
    public async Task A_cookie_from_one_instance_is_accepted_by_another()
    {
        await using var h = await EngineHarness.CreateAsync(asOwnerRole: true);
        // Started at the same moment on a new installation, as after a power cut: both make the accounts database,
        // the cluster's tables and the Administrator role at once.
        var nodes = await ClusterAppProcess.StartTogetherAsync(h, ["a", "b"]);
        await using var a = nodes[0];
        await using var b = nodes[1];
        var admin = await AppProcess.RunAsync(ClusterAppProcess.ClusterEnvironment(h), "a-long-enough-passphrase\n",
            "app:create-admin", "dr.martin@clinic.test");
        Assert.True(admin.ExitCode == 0, admin.Stderr);

        var cookies = new CookieContainer();
        using var onA = a.Client(cookies: cookies);
        var form = await onA.GetStringAsync("/Account/Login");
        var signIn = await onA.PostAsync("/Account/Login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryInput().Match(form).Groups[1].Value),
            ["Input.Email"] = "dr.martin@clinic.test",
            ["Input.Password"] = "a-long-enough-passphrase",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await onA.GetAsync("/backups")).StatusCode);

        // The same browser, its next request sent to the other server.
        foreach (var cookie in cookies.GetAllCookies().Cast<Cookie>())
            cookies.Add(new Cookie(cookie.Name, cookie.Value, "/", b.BaseAddress.Host));
        using var onB = b.Client(cookies: cookies);
        var page = await onB.GetAsync("/backups");
        Assert.True(page.StatusCode == HttpStatusCode.OK,
            $"B answered {(int)page.StatusCode} {page.Headers.Location} to A's sign-in cookie.\n{b.Output}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();
}
