#!/usr/bin/perl
# A second third-party ESME for the integration tests: Debian's libnet-smpp-perl (Net::SMPP), synchronous.
# Binds as a transceiver, submits each TEXT (UTF-8 on the command line; sent as GSM when ASCII, else UCS-2) and
# prints one line per submit: "STATUS MESSAGE_ID". A refused bind prints "bind STATUS" and exits 2.
#   esme_perl.pl HOST PORT SYSTEM_ID PASSWORD TO TEXT...
use strict;
use warnings;
use Encode qw(decode encode);
use Net::SMPP;

my ($host, $port, $system_id, $password, $to, @texts) = @ARGV;
my ($smpp, $resp) = Net::SMPP->new_transceiver(
    $host, port => $port, system_id => $system_id, password => $password, async => 0, timeout => 10);
if (!$smpp || !$resp || $resp->{status} != 0) {
    printf "bind %d\n", $resp ? $resp->{status} : -1;
    exit 2;
}
$| = 1;
for my $raw (@texts) {
    my $text = decode('UTF-8', $raw);
    my ($coding, $bytes) = $text =~ /^[\x20-\x7E]*$/ ? (0, $text) : (8, encode('UTF-16BE', $text));
    my $r = $smpp->submit_sm(source_addr_ton => 5, source_addr => 'Petrel', dest_addr_ton => 1,
        destination_addr => $to, data_coding => $coding, short_message => $bytes, registered_delivery => 1);
    printf "%d %s\n", $r->{status}, $r->{message_id} // '';
}
$smpp->unbind();
