/** Country names and a few region words (hand-written), used to keep places out of person names. */
export const PLACES = `
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia herzegovina botswana brazil brunei
bulgaria burkina faso burundi cambodia cameroon canada chad chile china colombia comoros congo costa rica
croatia cuba cyprus czech czechia denmark djibouti dominica dominican ecuador egypt salvador eritrea
estonia eswatini ethiopia fiji finland france gabon gambia georgia germany ghana greece grenada guatemala
guinea guyana haiti honduras hungary iceland india indonesia iran iraq ireland israel italy jamaica japan
jordan kazakhstan kenya kiribati korea kosovo kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya
liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta mauritania mauritius
mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal
netherlands zealand nicaragua niger nigeria macedonia norway oman pakistan palau palestine panama papua
paraguay peru philippines poland portugal qatar romania russia rwanda samoa marino arabia senegal serbia
seychelles sierra leone singapore slovakia slovenia solomon somalia sudan spain sri lanka suriname sweden
switzerland syria taiwan tajikistan tanzania thailand togo tonga trinidad tobago tunisia turkey
turkmenistan tuvalu uganda ukraine emirates uruguay uzbekistan vanuatu vatican venezuela vietnam yemen
zambia zimbabwe greenland greenlander england scotland wales britain europe asia africa america oceania
antarctica caribbean scandinavia balkans
london paris berlin madrid rome vienna prague warsaw budapest athens lisbon dublin amsterdam brussels
copenhagen stockholm oslo helsinki reykjavik tallinn riga vilnius moscow kyiv kiev istanbul ankara
tokyo beijing shanghai seoul delhi mumbai sydney melbourne toronto montreal vancouver chicago boston
houston dallas seattle denver atlanta miami phoenix detroit philadelphia angeles francisco york
washington california texas florida ohio michigan virginia carolina arizona nevada oregon utah
`;
