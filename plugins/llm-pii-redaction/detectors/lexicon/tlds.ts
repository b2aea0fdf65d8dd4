/**
 * Top-level domains recognised for bare domain names (hand-written: all two-letter country codes plus
 * common generic TLDs). URLs with a scheme do not need the list.
 */
const CC =
  'ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz ' +
  'ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm ' +
  'fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it ' +
  'je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn ' +
  'mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps ' +
  'pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj ' +
  'tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw';
const GENERIC =
  'com org net edu gov mil int info biz name pro aero coop museum mobi asia tel travel jobs cat post xxx ' +
  'app dev page io ai cloud online site website store shop blog tech news live life world today email ' +
  'company agency solutions services systems network digital media studio design group global center ' +
  'academy school university college health care clinic law legal finance money bank insurance capital ' +
  'consulting partners ventures holdings international city london berlin paris nyc tokyo africa ' +
  'space fun games game club team social chat link click help support tools software codes host hosting ' +
  'top xyz vip win bid loan review reviews work works ltd llc inc gmbh art music photo photography pics ' +
  'video tv radio fm film movie love wiki zone one plus run run place guide tips expert express direct ' +
  'market marketing sale sales deals events family land house home homes estate properties realty ' +
  'restaurant cafe bar pub pizza kitchen recipes food wine beer fashion clothing shoes jewelry watch ' +
  'fitness yoga golf football soccer hockey tennis bike cars auto car energy solar green eco earth ' +
  'science engineering engineer institute foundation charity church community social press report ' +
  'one gg me ly';

export const TLDS: ReadonlySet<string> = new Set(`${CC} ${GENERIC}`.split(/\s+/).filter(Boolean));

/** TLDs that collide with common file extensions: bare `name.<tld>` needs a www. prefix or 2+ labels. */
export const FILE_EXT_TLDS: ReadonlySet<string> = new Set(
  'py sh md rs pl ps cc so am as in is it me no to cs hs ml mk gz bz st pm rb sc ai do at be by id im la'.split(
    ' ',
  ),
);
