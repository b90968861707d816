#!/usr/bin/perl
# The sending limits of the alacarte mail image (docs/services/mail.md "Sending limits"): a Postfix
# policy service (Postfix's SMTPD_POLICY_README protocol), started by spawn for each connection of
# the submission services. It counts the recipients each signed-in mailbox, and each of its domain,
# sends to in the current hour, in files under the state folder, and answers a temporary refusal
# past the limits: one compromised account or one mass mailing cannot get the server blocklisted.
#   rate-limit.pl <state folder> <recipients per mailbox an hour> <recipients per domain an hour>
use strict;
use warnings;
use Fcntl qw(:flock O_RDWR O_CREAT);

my ($dir, $per_mailbox, $per_domain) = @ARGV;
die "usage: rate-limit.pl <folder> <per mailbox> <per domain>\n" unless defined $per_domain;
$| = 1;

# Adds one to a counter file of this hour and returns the new count; 0 when the file cannot be
# used (mail keeps flowing rather than stop on a full disk).
sub bump {
    my ($name) = @_;
    my $hour = int(time() / 3600);
    mkdir $dir;
    if (mkdir "$dir/$hour") {
        # A new hour: the hours before the last are forgotten.
        opendir(my $dh, $dir);
        for my $old (grep { /^\d+$/ && $_ < $hour - 1 } readdir($dh)) {
            unlink glob("$dir/$old/*");
            rmdir "$dir/$old";
        }
        closedir($dh);
    }
    sysopen(my $fh, "$dir/$hour/$name", O_RDWR | O_CREAT, 0600) or return 0;
    flock($fh, LOCK_EX) or return 0;
    my $count = <$fh> // 0;
    chomp $count;
    $count = ($count =~ /^\d+$/ ? $count : 0) + 1;
    seek($fh, 0, 0);
    truncate($fh, 0);
    print $fh "$count\n";
    close($fh);
    return $count;
}

my %request;
while (my $line = <STDIN>) {
    chomp $line;
    if ($line ne "") {
        my ($key, $value) = split /=/, $line, 2;
        $request{$key} = $value // "";
        next;
    }
    my $action = "DUNNO";
    my $user = lc($request{sasl_username} // "");
    # Only a signed-in mailbox counts, by its own address (no / to leave the folder).
    if ($user =~ /^[a-z0-9._%+*-]+\@([a-z0-9.-]+)$/ && ($request{protocol_state} // "") eq "RCPT") {
        my $domain = $1;
        if (bump("mailbox-$user") > $per_mailbox) {
            $action = "450 4.7.1 Sending limit reached: $per_mailbox recipients an hour for this mailbox";
        } elsif (bump("domain-$domain") > $per_domain) {
            $action = "450 4.7.1 Sending limit reached: $per_domain recipients an hour for this domain";
        }
    }
    print "action=$action\n\n";
    %request = ();
}
